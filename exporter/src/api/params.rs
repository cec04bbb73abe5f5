//! Request parameters as Go's `http.Request.Form` holds them: the form-encoded body of a POST
//! first, then the URL's query string; `get` is Go's `FormValue` (the first value, `""` when
//! absent). Plus Prometheus's readers for the parameters several endpoints share.

use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use model::Matcher;
use query::Expr;

use super::error::ApiError;
use super::time::{self, ApiTime};

/// The largest form body read, as Go's `ParseForm` (10 MB).
const MAX_FORM_BYTES: usize = 10 << 20;

/// The decoded parameters of one request, in Go's `Form` order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parameters from an optional form body and an optional query string.
    pub(crate) fn from_parts(body: Option<&[u8]>, query: Option<&str>) -> Self {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(body) = body {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        if let Some(q) = query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        Self { pairs }
    }

    /// The first value of `key`, or `""` (Go's `FormValue`).
    pub(crate) fn get(&self, key: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A time parameter with a default when absent or empty (`parseTimeParam`).
    ///
    /// # Errors
    /// `invalid parameter "NAME": invalid time value for 'NAME': cannot parse ...`.
    pub(crate) fn time_or(&self, name: &str, default: ApiTime) -> Result<ApiTime, ApiError> {
        let v = self.get(name);
        if v.is_empty() {
            return Ok(default);
        }
        time::parse_time(v).map_err(|e| {
            ApiError::invalid_param(name, format!("invalid time value for '{name}': {e}"))
        })
    }

    /// A required time parameter (`parseTime`, as `query_range` reads `start` and `end`).
    ///
    /// # Errors
    /// `invalid parameter "NAME": cannot parse "X" to a valid timestamp`.
    pub(crate) fn time(&self, name: &str) -> Result<ApiTime, ApiError> {
        time::parse_time(self.get(name)).map_err(|e| ApiError::invalid_param(name, e))
    }

    /// The `limit` parameter: 0 (no limit) when absent (`parseLimitParam`).
    ///
    /// # Errors
    /// `invalid parameter "limit": ...` with Go's `strconv.Atoi` text, or
    /// `limit must be non-negative`.
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        let s = self.get("limit");
        if s.is_empty() {
            return Ok(0);
        }
        let n = go_atoi(s).map_err(|e| ApiError::invalid_param("limit", e))?;
        usize::try_from(n)
            .map_err(|_| ApiError::invalid_param("limit", "limit must be non-negative"))
    }

    /// The optional `timeout` parameter, in nanoseconds (negative means already expired).
    ///
    /// # Errors
    /// `invalid parameter "timeout": cannot parse ...`.
    pub(crate) fn timeout_ns(&self) -> Result<Option<i64>, ApiError> {
        let s = self.get("timeout");
        if s.is_empty() {
            return Ok(None);
        }
        time::parse_duration(s)
            .map(Some)
            .map_err(|e| ApiError::invalid_param("timeout", e))
    }

    /// The optional `lookback_delta` parameter in ms; `None` when absent or not positive
    /// (the engine's default applies), as `extractQueryOpts` does.
    ///
    /// # Errors
    /// `error parsing lookback delta duration: cannot parse ...` (bad_data, no parameter
    /// prefix).
    pub(crate) fn lookback_delta_ms(&self) -> Result<Option<i64>, ApiError> {
        let s = self.get("lookback_delta");
        if s.is_empty() {
            return Ok(None);
        }
        let ns = time::parse_duration(s).map_err(|e| {
            ApiError::bad_data(format!("error parsing lookback delta duration: {e}"))
        })?;
        Ok((ns > 0).then(|| (ns / 1_000_000).max(1)))
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    /// Reads the query string, and the body of a POST with a form content type.
    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let query = req.uri().query().map(str::to_owned);
        let is_form = req.method() == Method::POST
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| {
                    ct.split(';').next().is_some_and(|m| {
                        m.trim()
                            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                    })
                });
        if !is_form {
            return Ok(Self::from_parts(None, query.as_deref()));
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|e| ApiError::bad_data(format!("error parsing form values: {e}")))?;
        Ok(Self::from_parts(Some(&body), query.as_deref()))
    }
}

/// Go's `strconv.Atoi` with its error texts.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            time::go_quote(s)
        ));
    }
    s.parse().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            time::go_quote(s)
        )
    })
}

/// Go's `strconv.Atoi` as `/api/v1/metadata` uses it: any failure is `what must be a number`.
pub(crate) fn number_or(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    let s = params.get(name);
    if s.is_empty() {
        return Ok(None);
    }
    go_atoi(s)
        .map(Some)
        .map_err(|_| ApiError::bad_data(format!("{name} must be a number")))
}

/// Parses `match[]` values into matcher sets: each must be a series selector without
/// `offset` or `@`, with at least one matcher that does not match the empty string
/// (`parseMatchersParam`).
///
/// # Errors
/// The parser's `line:col: parse error: ...` text, or
/// `match[] must contain at least one non-empty matcher`; bare, for the caller to wrap.
pub(crate) fn matcher_sets(values: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let mut sets = Vec::with_capacity(values.len());
    for v in values {
        sets.push(series_selector(v)?);
    }
    for set in &sets {
        if set.iter().all(Matcher::matches_empty) {
            return Err(EMPTY_SELECTOR.into());
        }
    }
    Ok(sets)
}

/// The API's own complaint about a selector of empty-matching matchers only.
const EMPTY_SELECTOR: &str = "match[] must contain at least one non-empty matcher";

/// One series selector's matchers. Prometheus reads `match[]` with a selector-only parser
/// that leaves the "at least one non-empty matcher" rule to the API, so that rule's parse
/// error becomes the API's text here.
fn series_selector(s: &str) -> Result<Vec<Matcher>, String> {
    let expr = query::parse(s).map_err(|e| {
        if e.message == "vector selector must contain at least one non-empty matcher" {
            EMPTY_SELECTOR.to_string()
        } else {
            e.to_string()
        }
    })?;
    match expr {
        Expr::VectorSelector {
            matchers,
            offset_ms: 0,
            at: None,
            ..
        } => Ok(matchers),
        other => Err(format!(
            "1:1: parse error: expected a series selector, got {} {}",
            other.value_type(),
            time::go_quote(s)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_values_come_before_the_query_string() {
        let p = Params::from_parts(
            Some(b"query=up&match%5B%5D=a"),
            Some("query=down&match[]=b&time=1"),
        );
        assert_eq!(p.get("query"), "up");
        assert_eq!(p.get("time"), "1");
        assert_eq!(p.get("absent"), "");
        assert_eq!(p.all("match[]"), ["a", "b"]);
    }

    #[test]
    fn limits_use_go_atoi_texts() {
        let limit = |s: &str| Params::from_parts(None, Some(&format!("limit={s}"))).limit();
        assert_eq!(limit("5"), Ok(5));
        assert_eq!(limit("%2B5"), Ok(5));
        assert_eq!(limit("0"), Ok(0));
        assert_eq!(
            limit("x").unwrap_err().message,
            r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(
            limit("99999999999999999999").unwrap_err().message,
            r#"invalid parameter "limit": strconv.Atoi: parsing "99999999999999999999": value out of range"#
        );
        assert_eq!(
            limit("-1").unwrap_err().message,
            r#"invalid parameter "limit": limit must be non-negative"#
        );
    }

    #[test]
    fn selectors_must_be_plain_and_non_empty() {
        assert_eq!(matcher_sets(&["up", r#"{job="a"}"#]).unwrap().len(), 2);
        assert!(
            matcher_sets(&["rate(up[5m])"])
                .unwrap_err()
                .contains("series selector")
        );
        assert!(matcher_sets(&["up offset 5m"]).is_err());
        assert!(matcher_sets(&["up{"]).unwrap_err().contains("parse error"));
        assert_eq!(
            matcher_sets(&["up", r#"{job=~".*"}"#]).unwrap_err(),
            "match[] must contain at least one non-empty matcher"
        );
    }
}
