//! `GET /api/v1/render`: a range query drawn as an image ([`crate::graph`]).
//!
//! Parameters: `query`; `start`, `end` (default: the last hour); `step` (default: the range
//! over 250, at least 1 s); `format` (`png`, the default, or `svg`); `width` and `height`
//! (pixels, default 800 × 400, within 200–4000 × 150–3000); `title` (default: the query).
//! A bad parameter or query is answered with Prometheus's JSON error, never an image.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::params::Params;
use super::query::{check_order, check_step, range_query, step_millis};
use super::time::{ApiTime, parse_duration};
use crate::AppState;
use crate::graph::{self, Format};

/// The default range when `start` is absent, ms.
const DEFAULT_RANGE_MS: i64 = 3_600_000;

/// The handler.
pub(crate) async fn render(State(state): State<AppState>, params: Params) -> Response {
    match render_inner(state, params).await {
        Ok((format, bytes)) => {
            let ctype = match format {
                Format::Png => "image/png",
                Format::Svg => "image/svg+xml",
            };
            ([(header::CONTENT_TYPE, ctype)], bytes).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A pixel size parameter within `range`, `default` when absent.
fn pixels(
    params: &Params,
    name: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    let v = params.get(name);
    if v.is_empty() {
        return Ok(default);
    }
    let n: u32 = v.parse().map_err(|_| {
        ApiError::invalid_param(name, format!("cannot parse {v:?} to a number of pixels"))
    })?;
    if !range.contains(&n) {
        return Err(ApiError::invalid_param(
            name,
            format!("{n} is not within {}..{}", range.start(), range.end()),
        ));
    }
    Ok(n)
}

async fn render_inner(state: AppState, params: Params) -> Result<(Format, Vec<u8>), ApiError> {
    let query = params.get("query").to_owned();
    if query.is_empty() {
        return Err(ApiError::invalid_param("query", "no query given"));
    }
    let now = ApiTime::from_millis((state.clock)());
    let end = params.time_or("end", now)?;
    let start = params.time_or(
        "start",
        ApiTime::from_millis(end.millis() - DEFAULT_RANGE_MS),
    )?;
    check_order(start, end)?;
    let step_ns = match params.get("step") {
        "" => {
            let range_s = (end.millis() - start.millis()) / 1000;
            (range_s / 250).max(1) * 1_000_000_000
        }
        s => parse_duration(s).map_err(|e| ApiError::invalid_param("step", e))?,
    };
    check_step(start, end, step_ns)?;
    let format = match params.get("format") {
        "" | "png" => Format::Png,
        "svg" => Format::Svg,
        other => {
            return Err(ApiError::invalid_param(
                "format",
                format!("{other:?} is not png or svg"),
            ));
        }
    };
    let width = pixels(&params, "width", 800, 200..=4000)?;
    let height = pixels(&params, "height", 400, 150..=3000)?;
    let title = match params.get("title") {
        "" => query.clone(),
        t => t.to_owned(),
    };
    let engine = state.engine.clone();
    let budget = engine.options().timeout;
    let step_ms = step_millis(step_ns);
    let (s, e) = (start.millis(), end.millis());
    super::run_blocking(&state, budget, move |storage| {
        let res = range_query(&engine, storage, &query, s, e, step_ms)?;
        let mut chart = graph::chart_of(&res.value, &query, step_ms, &title);
        chart.width = width;
        chart.height = height;
        graph::render(&chart, format)
            .map(|bytes| (format, bytes))
            .map_err(|e| ApiError::execution(format!("drawing the graph: {e}")))
    })
    .await
}
