//! Y-axis units inferred from metric names, and the labels they give values.

/// How y values are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Numbers with SI prefixes (`1.5k`, `20M`).
    Plain,
    /// Bytes, in binary multiples (`512 B`, `1.5 KiB`, `3 GiB`).
    Bytes,
    /// Seconds (`250 µs`, `15 ms`, `2.5 s`, `3 min`, `2 h`).
    Seconds,
    /// A ratio (0–1) shown as a percentage.
    Percent,
}

/// The unit a query's values are in, from the metric names it mentions: the first name
/// ending in `_bytes` (or `_bytes_total`, `_bytes_bucket`: bytes, or bytes per second under
/// `rate`), `_seconds` or `_seconds_bucket` (durations; `_seconds_total` counts CPU or
/// busy time, whose rate is a plain number), or `_ratio` (percent). Plain otherwise.
pub fn infer(query: &str) -> Unit {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    for token in query
        .split(|c: char| !is_ident(c))
        .filter(|t| !t.is_empty())
    {
        if ["_bytes", "_bytes_total", "_bytes_bucket"]
            .iter()
            .any(|s| token.ends_with(s))
        {
            return Unit::Bytes;
        }
        if token.ends_with("_seconds") || token.ends_with("_seconds_bucket") {
            return Unit::Seconds;
        }
        if token.ends_with("_ratio") {
            return Unit::Percent;
        }
    }
    Unit::Plain
}

/// `v` as a short label in `unit`.
pub fn label(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    match unit {
        Unit::Plain => si(v),
        Unit::Bytes => bytes(v),
        Unit::Seconds => seconds(v),
        Unit::Percent => format!("{}%", trim(v * 100.0)),
    }
}

/// A number with at most three significant decimals, trailing zeros dropped.
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn si(v: f64) -> String {
    let a = v.abs();
    let (div, suffix) = match a {
        _ if a >= 1e12 => (1e12, "T"),
        _ if a >= 1e9 => (1e9, "G"),
        _ if a >= 1e6 => (1e6, "M"),
        _ if a >= 1e3 => (1e3, "k"),
        _ if a > 0.0 && a < 1e-3 => (1e-6, "µ"),
        _ if a > 0.0 && a < 1.0 => (1e-3, "m"),
        _ => (1.0, ""),
    };
    format!("{}{suffix}", trim(v / div))
}

fn bytes(v: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = v;
    let mut i = 0;
    while x.abs() >= 1024.0 && i + 1 < units.len() {
        x /= 1024.0;
        i += 1;
    }
    format!("{} {}", trim(x), units[i])
}

fn seconds(v: f64) -> String {
    let a = v.abs();
    match a {
        _ if a == 0.0 => "0".into(),
        _ if a < 1e-3 => format!("{} µs", trim(v * 1e6)),
        _ if a < 1.0 => format!("{} ms", trim(v * 1e3)),
        _ if a < 120.0 => format!("{} s", trim(v)),
        _ if a < 7200.0 => format!("{} min", trim(v / 60.0)),
        _ => format!("{} h", trim(v / 3600.0)),
    }
}

/// Round tick values from `lo` to `hi` (about five): multiples of 1, 2 or 5 times a power of
/// ten, or for bytes of a power of 1024 (so that labels read `256 MiB`, `512 MiB`, `1 GiB`).
pub fn ticks(lo: f64, hi: f64, unit: Unit) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let raw = span / 5.0;
    let base = match unit {
        Unit::Bytes if raw >= 1.0 => 1024f64.powi((raw.log2() / 10.0).floor() as i32),
        _ => 10f64.powi(raw.log10().floor() as i32),
    };
    let multiples: &[f64] = match unit {
        Unit::Bytes if base >= 1024.0 => &[
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
        ],
        _ => &[1.0, 2.0, 5.0, 10.0],
    };
    let step = multiples
        .iter()
        .map(|m| m * base)
        .find(|s| *s >= raw)
        .unwrap_or(base * 10.0);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_metric_names() {
        assert_eq!(infer("node_memory_MemAvailable_bytes"), Unit::Bytes);
        assert_eq!(
            infer("rate(node_network_receive_bytes_total[5m])"),
            Unit::Bytes
        );
        assert_eq!(
            infer("histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))"),
            Unit::Seconds
        );
        assert_eq!(
            infer("rate(node_cpu_seconds_total{mode=\"user\"}[1m])"),
            Unit::Plain
        );
        assert_eq!(infer("cache_hit_ratio"), Unit::Percent);
        assert_eq!(infer("up"), Unit::Plain);
    }

    #[test]
    fn ticks_are_round_in_the_unit() {
        let gib = 1024.0 * 1024.0 * 1024.0;
        let t = ticks(0.0, 4.2 * gib, Unit::Bytes);
        let labels: Vec<String> = t.iter().map(|v| label(*v, Unit::Bytes)).collect();
        assert_eq!(labels, ["0 B", "1 GiB", "2 GiB", "3 GiB", "4 GiB"]);
        let t = ticks(0.0, 700.0 * 1024.0 * 1024.0, Unit::Bytes);
        let labels: Vec<String> = t.iter().map(|v| label(*v, Unit::Bytes)).collect();
        assert_eq!(labels, ["0 B", "256 MiB", "512 MiB"]);
        assert_eq!(ticks(0.0, 35.0, Unit::Plain), [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(
            ticks(0.0, 1.0, Unit::Percent),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
    }

    #[test]
    fn labels_are_human() {
        assert_eq!(label(1536.0, Unit::Bytes), "1.5 KiB");
        assert_eq!(label(3.0 * 1024.0 * 1024.0 * 1024.0, Unit::Bytes), "3 GiB");
        assert_eq!(label(0.015, Unit::Seconds), "15 ms");
        assert_eq!(label(0.00025, Unit::Seconds), "250 µs");
        assert_eq!(label(2.5, Unit::Seconds), "2.5 s");
        assert_eq!(label(180.0, Unit::Seconds), "3 min");
        assert_eq!(label(0.25, Unit::Percent), "25%");
        assert_eq!(label(20_000_000.0, Unit::Plain), "20M");
        assert_eq!(label(0.5, Unit::Plain), "500m");
        assert_eq!(label(0.0, Unit::Plain), "0");
    }
}
