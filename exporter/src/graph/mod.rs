//! Time-series charts as PNG or SVG images, drawn with plotters and the embedded DejaVu Sans
//! font (no system fonts, no fontconfig): a time axis labelled for the range shown, a y axis
//! in the chart's unit ([`units`]), a legend of the labels that tell series apart
//! ([`legend`]), distinct colours, gaps where a series has no value (NaN) rather than a line
//! across them, a "no data" image for an empty result, and at most [`MAX_SERIES`] series
//! with a note when a query returns more ([`chart_of`]).

pub mod legend;
pub mod units;

pub use units::Unit;

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontFamily, FontStyle, register_font};

/// DejaVu Sans (see `assets/DejaVuSans.LICENSE`).
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// The name the font is registered under.
const FAMILY: &str = "sans-serif";

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend text.
    pub name: String,
    /// (ms since the epoch, value); NaN values are gaps.
    pub points: Vec<(i64, f64)>,
    /// Drawn as steps (a value holds until the next point) rather than straight segments.
    pub step: bool,
}

/// The image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG.
    Png,
    /// SVG.
    Svg,
}

impl Format {
    /// The format a file name's extension asks for (`.png`, `.svg`).
    ///
    /// # Errors
    /// Another or no extension.
    pub fn from_path(path: &std::path::Path) -> Result<Format, String> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("png") => Ok(Format::Png),
            Some(e) if e.eq_ignore_ascii_case("svg") => Ok(Format::Svg),
            _ => Err(format!(
                "{}: the file name must end in .png or .svg",
                path.display()
            )),
        }
    }
}

/// A chart to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The title above the plot.
    pub title: String,
    /// The y axis's unit.
    pub y_unit: Unit,
    /// The lines.
    pub series: Vec<Series>,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
}

/// At most this many series are drawn; a query returning more is cut to the ones with the
/// highest average, and the title says so.
pub const MAX_SERIES: usize = 10;

/// The chart of a range query's result: every series (at most [`MAX_SERIES`]), a gap
/// wherever a step has no point, the unit inferred from the query, the legend from the
/// labels that differ. A scalar result is one series named by the query.
pub fn chart_of(value: &query::engine::Value, query: &str, step_ms: i64, title: &str) -> Chart {
    use query::engine::Value;
    let mut list: Vec<(&model::Labels, Vec<(i64, f64)>)> = match value {
        Value::Matrix(series) => series
            .iter()
            .map(|s| (&s.metric, with_gaps(&s.points, step_ms)))
            .collect(),
        _ => Vec::new(),
    };
    let total = list.len();
    let mut title = title.to_string();
    if total > MAX_SERIES {
        let mean = |pts: &[(i64, f64)]| {
            let finite: Vec<f64> = pts.iter().map(|p| p.1).filter(|v| v.is_finite()).collect();
            finite.iter().sum::<f64>() / finite.len().max(1) as f64
        };
        list.sort_by(|a, b| mean(&b.1).total_cmp(&mean(&a.1)));
        list.truncate(MAX_SERIES);
        title = format!("{title} (top {MAX_SERIES} of {total} series by average)");
    }
    let sets: Vec<&model::Labels> = list.iter().map(|(l, _)| *l).collect();
    let names = legend::texts(&sets);
    let series = list
        .into_iter()
        .zip(names)
        .map(|((_, points), name)| Series {
            name,
            points,
            step: false,
        })
        .collect();
    Chart {
        title,
        y_unit: units::infer(query),
        series,
        width: 800,
        height: 400,
    }
}

/// `points` with a NaN wherever more than one step passes without a point (a gap).
fn with_gaps(points: &[model::Sample], step_ms: i64) -> Vec<(i64, f64)> {
    let mut out = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        if i > 0 && p.t - points[i - 1].t > step_ms.max(1) * 3 / 2 {
            out.push((points[i - 1].t + step_ms, f64::NAN));
        }
        out.push((
            p.t,
            if model::is_stale_nan(p.v) {
                f64::NAN
            } else {
                p.v
            },
        ));
    }
    out
}

/// An axis whose ticks are chosen here: round values of the y unit ([`units::ticks`]) or
/// round times ([`time_ticks`]), instead of plotters' decimal ones.
struct Ticked<R: plotters::coord::ranged1d::Ranged> {
    inner: R,
    ticks: Vec<R::ValueType>,
}

impl<R> plotters::coord::ranged1d::Ranged for Ticked<R>
where
    R: plotters::coord::ranged1d::Ranged,
    R::ValueType: Clone,
{
    type FormatOption = plotters::coord::ranged1d::NoDefaultFormatting;
    type ValueType = R::ValueType;

    fn map(&self, value: &R::ValueType, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(
        &self,
        _hint: Hint,
    ) -> Vec<R::ValueType> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<R::ValueType> {
        self.inner.range()
    }
}

impl<R> plotters::coord::ranged1d::ValueFormatter<R::ValueType> for Ticked<R>
where
    R: plotters::coord::ranged1d::Ranged,
    R::ValueType: std::fmt::Debug + Clone,
{
    fn format(value: &R::ValueType) -> String {
        format!("{value:?}")
    }
}

/// Round tick times within `[t0, t1]` (ms): the smallest of 1 s … 7 d steps that gives at
/// most seven ticks, aligned to the step in UTC.
fn time_ticks(t0: i64, t1: i64) -> Vec<i64> {
    const STEPS_S: [i64; 20] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
        86_400, 172_800, 604_800,
    ];
    let span = (t1 - t0).max(1);
    let step = STEPS_S
        .iter()
        .map(|s| s * 1000)
        .find(|s| span / s <= 6)
        .unwrap_or(604_800_000);
    let first = t0.div_euclid(step) + i64::from(t0.rem_euclid(step) != 0);
    (first..=t1.div_euclid(step)).map(|k| k * step).collect()
}

/// Line colours, distinct and readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];

fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in; registering it cannot fail for a valid TTF.
        let _ = register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Draws `chart` as an image.
///
/// # Errors
/// Drawing or encoding fails (a message naming the step).
pub fn render(chart: &Chart, format: Format) -> Result<Vec<u8>, String> {
    register();
    let (w, h) = (chart.width.clamp(200, 4000), chart.height.clamp(150, 3000));
    match format {
        Format::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
                draw(&root, chart)?;
                root.present().map_err(|e| format!("drawing: {e}"))?;
            }
            Ok(text.into_bytes())
        }
        Format::Png => {
            let mut rgb = vec![0u8; (w * h * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                draw(&root, chart)?;
                root.present().map_err(|e| format!("drawing: {e}"))?;
            }
            encode_png(&rgb, w, h)
        }
    }
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(rgb, w, h, image::ColorType::Rgb8)
        .map_err(|e| format!("encoding PNG: {e}"))?;
    Ok(out)
}

/// The x and y ranges of `series` (y from 0 unless values are negative, with headroom).
fn ranges(series: &[Series]) -> Option<((i64, i64), (f64, f64))> {
    let points = series.iter().flat_map(|s| &s.points);
    let (mut t0, mut t1, mut y0, mut y1) = (i64::MAX, i64::MIN, 0.0f64, f64::MIN);
    let mut any = false;
    for (t, v) in points {
        t0 = t0.min(*t);
        t1 = t1.max(*t);
        if v.is_finite() {
            any = true;
            y0 = y0.min(*v);
            y1 = y1.max(*v);
        }
    }
    if !any {
        return None;
    }
    if t1 <= t0 {
        t1 = t0 + 1000;
    }
    let y1 = if y1 <= y0 {
        y0 + 1.0
    } else {
        y1 + (y1 - y0) * 0.05
    };
    Some(((t0, t1), (y0, y1)))
}

/// A time label for an axis spanning `span_ms`: `HH:MM` within a day, `MM-DD HH:MM` beyond.
fn time_label(t_ms: i64, span_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if span_ms <= 10 * 60_000 {
        return format!("{hh:02}:{mm:02}:{ss:02}");
    }
    if span_ms <= 86_400_000 {
        return format!("{hh:02}:{mm:02}");
    }
    let (_, month, day) = crate::api::targets::civil_from_days(days);
    format!("{month:02}-{day:02} {hh:02}:{mm:02}")
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing: {e}");
    root.fill(&WHITE).map_err(err)?;
    let family = FontFamily::Name(FAMILY);
    let Some(((t0, t1), (y0, y1))) = ranges(&chart.series) else {
        let style = TextStyle::from((family, 24)).color(&BLACK);
        let (w, h) = root.dim_in_pixel();
        root.draw_text(
            "no data",
            &style,
            (
                i32::try_from(w / 2).unwrap_or(0) - 40,
                i32::try_from(h / 2).unwrap_or(0),
            ),
        )
        .map_err(err)?;
        return Ok(());
    };
    let mut ctx = ChartBuilder::on(root)
        .caption(&chart.title, (family, 18))
        .margin(10)
        .margin_right(30)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(
            Ticked {
                inner: plotters::coord::types::RangedCoordi64::from(t0..t1),
                ticks: time_ticks(t0, t1),
            },
            Ticked {
                inner: plotters::coord::types::RangedCoordf64::from(y0..y1),
                ticks: units::ticks(y0, y1, chart.y_unit),
            },
        )
        .map_err(err)?;
    let span = t1 - t0;
    ctx.configure_mesh()
        .x_label_formatter(&|t| time_label(*t, span))
        .y_label_formatter(&|v| units::label(*v, chart.y_unit))
        .label_style((family, 12))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        for run in runs(&s.points, s.step) {
            ctx.draw_series(LineSeries::new(run, color.stroke_width(2)))
                .map_err(err)?;
        }
        ctx.draw_series(std::iter::once(PathElement::new(
            Vec::<(i64, f64)>::new(),
            color,
        )))
        .map_err(err)?
        .label(&s.name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((family, 12))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// The unbroken runs of `points` (NaN splits them), as steps when `step` is set.
fn runs(points: &[(i64, f64)], step: bool) -> Vec<Vec<(i64, f64)>> {
    let mut out: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut current: Vec<(i64, f64)> = Vec::new();
    for &(t, v) in points {
        if !v.is_finite() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if step && let Some(&(_, prev)) = current.last() {
            current.push((t, prev));
        }
        current.push((t, v));
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_lines_and_steps_hold_values() {
        let pts = [(0, 1.0), (10, 2.0), (20, f64::NAN), (30, 3.0)];
        assert_eq!(
            runs(&pts, false),
            vec![vec![(0, 1.0), (10, 2.0)], vec![(30, 3.0)]]
        );
        assert_eq!(
            runs(&pts[..2], true),
            vec![vec![(0, 1.0), (10, 1.0), (10, 2.0)]]
        );
    }

    #[test]
    fn time_ticks_are_round() {
        let t0 = 1_789_996_400_000; // 13:13:20Z
        let ticks = time_ticks(t0, t0 + 3_600_000);
        let labels: Vec<String> = ticks.iter().map(|t| time_label(*t, 3_600_000)).collect();
        assert_eq!(
            labels,
            ["13:20", "13:30", "13:40", "13:50", "14:00", "14:10"]
        );
        assert_eq!(time_ticks(0, 60_000).len(), 7, "every 10 s in a minute");
    }

    #[test]
    fn time_labels_fit_the_range() {
        // 2026-11-25T21:17:05Z
        let t = 1_795_641_425_000;
        assert_eq!(time_label(t, 60_000), "21:17:05");
        assert_eq!(time_label(t, 3_600_000), "21:17");
        assert_eq!(time_label(t, 7 * 86_400_000), "11-25 21:17");
    }

    #[test]
    fn svg_and_png_render_with_the_embedded_font() {
        let chart = Chart {
            title: "t".into(),
            y_unit: Unit::Plain,
            series: vec![Series {
                name: "replicas".into(),
                points: vec![(0, 1.0), (60_000, 3.0)],
                step: true,
            }],
            width: 400,
            height: 200,
        };
        let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("replicas"), "{svg}");
        let png = render(&chart, Format::Png).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let empty = Chart {
            series: vec![],
            ..chart
        };
        let svg = String::from_utf8(render(&empty, Format::Svg).unwrap()).unwrap();
        assert!(svg.contains("no data"));
    }
}
