//! The query corpus, and the times it is evaluated at.
//!
//! Every time, range, offset and step here is a multiple of 15 s, and the data's samples never
//! are (see `data.rs`), so no sample lies on the left edge of a window: Prometheus 2.42 closes
//! windows there (`[t - r, t]`), promlet (like Prometheus 3.x) leaves them open. Subquery
//! ranges are deliberately *not* multiples of their step (`[20m10s:1m]`) for the same reason:
//! otherwise 2.42 would include one more inner evaluation at the left edge.
//!
//! Only functions both Prometheus 2.42 and promlet have are used (no `mad_over_time`,
//! `ts_of_*`, `limitk`, `sort_by_label`, `info`, native-histogram functions).

use crate::data::T0_MS;

/// How a query is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// As an instant query at [`INSTANT_TIMES`] and as range queries over [`RANGES`].
    Both,
    /// Only as an instant query (its value is a range vector or a string).
    Instant,
    /// A query both must refuse at evaluation (only the error type is compared).
    Error,
}

pub(crate) struct Query {
    pub(crate) kind: Kind,
    pub(crate) expr: &'static str,
}

const fn both(expr: &'static str) -> Query {
    Query {
        kind: Kind::Both,
        expr,
    }
}

const fn instant(expr: &'static str) -> Query {
    Query {
        kind: Kind::Instant,
        expr,
    }
}

const fn error(expr: &'static str) -> Query {
    Query {
        kind: Kind::Error,
        expr,
    }
}

const MIN_MS: i64 = 60_000;

/// Instant query times: 3 minutes into the data (windows reach back before it), mid-data (a3
/// is down, b0 and b1 both run), late (n3's gap is over, b1 stopped), and 3 minutes after the
/// last samples (windows reach past the data's end).
pub(crate) const INSTANT_TIMES: [i64; 4] = [
    T0_MS + 3 * MIN_MS,
    T0_MS + 40 * MIN_MS,
    T0_MS + 107 * MIN_MS,
    T0_MS + 123 * MIN_MS,
];

/// Range queries as (start, end, step), ms: the whole data set at 60 s, from before the first
/// sample to 10 minutes after the last; half an hour at 15 s around the stops and gaps; and a
/// 5 min step whose end is not on the step grid.
pub(crate) const RANGES: [(i64, i64, i64); 3] = [
    (T0_MS, T0_MS + 130 * MIN_MS, 60_000),
    (T0_MS + 45 * MIN_MS, T0_MS + 75 * MIN_MS, 15_000),
    (T0_MS + 2 * MIN_MS, T0_MS + 118 * MIN_MS + 30_000, 300_000),
];

// T0 = 1767225600 (2026-01-01T00:00:00Z); 1767229200 = T0 + 1 h, 1767228000 = T0 + 40 min.
pub(crate) const QUERIES: &[Query] = &[
    // ---- selectors and matchers
    both("up"),
    both(r#"http_requests_total{job="api", method!="GET", code=~"2..|5.."}"#),
    both(r#"http_requests_total{code!~"4..", instance=~"a[01]|w3"}"#),
    both(r#"{__name__=~"node_.*", instance="n1"}"#),
    both(r#"{__name__="temperature_celsius", sensor!="cpu"}"#),
    both(r#"http_requests_total{job="web", nonexistent=""}"#),
    both(r#"temperature_celsius{sensor=~"cp"}"#),
    both(r#"temperature_celsius{sensor=~"(?i)CPU|Gpu"}"#),
    both(r#"disk_used_bytes{mountpoint=~"/.+"}"#),
    both(r#"queue_depth{queue!~"q1", job=~".*"}"#),
    both("batch_last_success_timestamp_seconds"),
    both(r#"temperature_celsius{instance="n3"}"#),
    both("flaky_ratio"),
    both(r#"request_duration_seconds_bucket{le="1.0"}"#),
    both(r#"request_duration_seconds_bucket{le="1"}"#),
    both(r#"count by (__name__) ({__name__=~".+"})"#),
    both(r#"up{nonexistent=~".*", instance=~"a.|b."}"#),
    both(r#"up{nonexistent!~".+", job=~""}"#),
    both(r#"{__name__!~"up|.*_total|.*_bucket", job="node"}"#),
    both(r#"disk_used_bytes{mountpoint=~"/var|/home", mountpoint!="/home"}"#),
    instant(r#"temperature_celsius{instance="n0"}[2m]"#),
    instant(r#"http_requests_total{instance="a0", code="200"}[1m] offset 30m"#),
    instant(r#"flaky_ratio[3m]"#),
    // ---- offset and @
    both("temperature_celsius offset 10m"),
    both("temperature_celsius offset -10m"),
    both(r#"http_requests_total{job="web"} @ 1767229200"#),
    both(r#"rate(http_requests_total{job="api"}[5m] @ end())"#),
    both("temperature_celsius @ start()"),
    both("sum(rate(node_cpu_seconds_total[5m] @ end() offset 30m))"),
    both("up offset 1h @ 1767232800"),
    both("timestamp(up offset 5m)"),
    both("timestamp(up @ 1767229200)"),
    both("last_over_time(up[5m] @ 1767229200)"),
    both("sum_over_time(queue_depth[1m] offset -5m)"),
    both("max_over_time(temperature_celsius[10m10s:1m] @ 1767229200 offset 5m)"),
    instant(r#"temperature_celsius{instance="n1", sensor="gpu"}[3m] @ 1767228000"#),
    // ---- counters and gauges over windows
    both("rate(http_requests_total[5m])"),
    both("irate(http_requests_total[5m])"),
    both("increase(http_requests_total[15m])"),
    both(r#"rate(http_requests_total{job="api"}[15s])"#),
    both(r#"rate(node_cpu_seconds_total{instance="n2"}[10m])"#),
    both("resets(http_requests_total[1h])"),
    both("resets(request_duration_seconds_count[30m])"),
    both("changes(queue_depth[30m])"),
    both("delta(temperature_celsius[10m])"),
    both("idelta(temperature_celsius[5m])"),
    both("deriv(temperature_celsius[10m])"),
    both("predict_linear(temperature_celsius[30m], 3600)"),
    both("predict_linear(node_memory_free_bytes[1h], 600)"),
    both("rate(batch_processed_total[5m])"),
    both("increase(request_duration_seconds_count[10m])"),
    both(r#"irate(node_cpu_seconds_total{mode="idle"}[1m])"#),
    both("avg_over_time(temperature_celsius[10m])"),
    both("min_over_time(temperature_celsius[10m])"),
    both("max_over_time(temperature_celsius[10m])"),
    both("sum_over_time(queue_depth[5m])"),
    both("count_over_time(temperature_celsius[10m])"),
    both("quantile_over_time(0.9, temperature_celsius[30m])"),
    both("quantile_over_time(0.25, queue_depth[10m])"),
    both("quantile_over_time(1.5, temperature_celsius[5m])"),
    both("stddev_over_time(temperature_celsius[15m])"),
    both("stdvar_over_time(node_memory_free_bytes[15m])"),
    both("last_over_time(batch_last_success_timestamp_seconds[1h])"),
    both("present_over_time(batch_processed_total[10m])"),
    both("max_over_time(flaky_ratio[10m])"),
    both("min_over_time(flaky_ratio[10m])"),
    both("avg_over_time(flaky_ratio[5m])"),
    both("sum_over_time(flaky_ratio[10m])"),
    both("stddev_over_time(flaky_ratio[10m])"),
    both("quantile_over_time(0.5, flaky_ratio[10m])"),
    both("last_over_time(flaky_ratio[1m])"),
    both("deriv(flaky_ratio[5m])"),
    both("changes(flaky_ratio[10m])"),
    both("resets(flaky_ratio[10m])"),
    both("delta(flaky_ratio[10m])"),
    both("idelta(flaky_ratio[1m])"),
    both("holt_winters(temperature_celsius[10m], 0.5, 0.3)"),
    // ---- classic histograms
    both("histogram_quantile(0.9, rate(request_duration_seconds_bucket[5m]))"),
    both("histogram_quantile(0.5, sum by (le) (rate(request_duration_seconds_bucket[5m])))"),
    both("histogram_quantile(0.99, sum by (job, le) (rate(request_duration_seconds_bucket[10m])))"),
    both(
        "histogram_quantile(0.95, sum without (instance) (increase(request_duration_seconds_bucket[15m])))",
    ),
    both("histogram_quantile(1.5, sum by (le) (rate(request_duration_seconds_bucket[5m])))"),
    both(r#"histogram_quantile(0.75, request_duration_seconds_bucket{instance="w1"})"#),
    both("histogram_quantile(0, sum by (le) (rate(request_duration_seconds_bucket[5m])))"),
    both("histogram_quantile(1, sum by (le) (rate(request_duration_seconds_bucket[5m])))"),
    both(r#"histogram_quantile(0.5, request_duration_seconds_bucket{le!="+Inf"})"#),
    both("rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])"),
    // ---- aggregations
    both("sum(rate(http_requests_total[5m]))"),
    both("sum by (job) (rate(http_requests_total[5m]))"),
    both("sum without (method, code) (rate(http_requests_total[5m]))"),
    both("sum(http_requests_total) by (job, code)"),
    both("avg by (instance) (temperature_celsius)"),
    both("min by (job) (queue_depth)"),
    both("max without (sensor) (temperature_celsius)"),
    both("count by (code) (http_requests_total)"),
    both("count without (cpu, mode) (node_cpu_seconds_total)"),
    both("group by (job, version) (build_info)"),
    both("stddev by (instance) (temperature_celsius)"),
    both("stdvar(node_memory_free_bytes)"),
    both("stddev(queue_depth)"),
    both("topk(3, temperature_celsius)"),
    both("topk by (job) (2, rate(http_requests_total[5m]))"),
    both(r#"bottomk(3, rate(http_requests_total{code="200"}[5m]))"#),
    both("bottomk without (sensor) (1, temperature_celsius)"),
    both("topk(5, sum by (instance, method) (rate(http_requests_total[5m])))"),
    both("quantile(0.5, temperature_celsius)"),
    both("quantile by (job) (0.9, rate(http_requests_total[5m]))"),
    both("quantile(-0.5, queue_depth)"),
    both(r#"count_values("depth", queue_depth)"#),
    both(r#"count_values by (job) ("v", up)"#),
    both("sum by (le) (request_duration_seconds_bucket)"),
    both("avg(flaky_ratio)"),
    both("max(flaky_ratio)"),
    both("min(flaky_ratio)"),
    both("stddev(flaky_ratio)"),
    both("quantile(0.5, flaky_ratio)"),
    both("topk(1, flaky_ratio)"),
    both("bottomk(1, flaky_ratio)"),
    both(r#"count_values("v", flaky_ratio)"#),
    both(r#"count_values("job", up)"#),
    both("avg(node_memory_free_bytes)"),
    both(r#"count_values("v", temperature_celsius)"#),
    both(r#"count_values("v", temperature_celsius * 1e-9)"#),
    both(r#"count_values("v", node_memory_free_bytes * 1e15)"#),
    // k varies with the number of targets up (12 to 14), and is 3 before the data starts.
    both("topk(scalar(count(up) - 11 or vector(3)), temperature_celsius)"),
    both("quantile(scalar(min(flaky_ratio)), temperature_celsius)"),
    both("group without (instance) (up)"),
    both("count(count by (job) (up))"),
    both("max by (nonexistent) (up)"),
    both("sum without () (queue_depth)"),
    both("bottomk(2, temperature_celsius) by (sensor)"),
    both(r#"sum by (__name__) ({__name__=~"up|queue_depth"})"#),
    // ---- binary operators and vector matching
    both("rate(http_requests_total[5m]) / on(job, instance) group_left(version) build_info"),
    both("build_info * on(job, instance) group_right(version) queue_depth"),
    both(
        r#"rate(http_requests_total{code="500"}[5m]) / ignoring(code) rate(http_requests_total{code="200"}[5m])"#,
    ),
    both("sum by (job) (rate(http_requests_total[5m])) > bool 100"),
    both("temperature_celsius > 45"),
    both("up == 0"),
    both("up != bool 1"),
    both("temperature_celsius >= on(instance) group_left avg by (instance) (temperature_celsius)"),
    both("node_memory_free_bytes / on(instance) group_left sum by (instance) (disk_used_bytes)"),
    both(
        r#"node_cpu_seconds_total{mode="idle"} / ignoring(mode) group_left sum without (mode) (node_cpu_seconds_total)"#,
    ),
    both("up == on(job, instance) group_left(version) build_info"),
    both("queue_depth > bool on(job, instance, queue) queue_depth offset 1m"),
    // `* 1` drops the metric name in both: 2.42 keeps it after `atan2`, later versions
    // (prometheus/prometheus#12595, 2.46) and promlet drop it.
    both("(temperature_celsius atan2 temperature_celsius offset 5m) * 1"),
    both("temperature_celsius atan2 0.5 * 2"),
    both("up + on() group_left vector(1)"),
    both("2 * temperature_celsius - 273.15"),
    both("100 / queue_depth"),
    both("queue_depth % 3"),
    both("temperature_celsius ^ 2"),
    both("(temperature_celsius > 40) * 2"),
    both("scalar(sum(up)) * up"),
    both("up and on(instance) (queue_depth > 15)"),
    both(r#"temperature_celsius{sensor="cpu"} or temperature_celsius{instance="n0"}"#),
    both(r#"http_requests_total unless on(code) http_requests_total{code="500"}"#),
    both(r#"up unless ignoring(job) up{job="api"}"#),
    both("(queue_depth == 3) or on() vector(0)"),
    both("-temperature_celsius"),
    both("-sum by (job) (rate(http_requests_total[5m]))"),
    both(r#"1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))"#),
    both("1 > bool 2"),
    both("2 ^ 3 ^ 2"),
    both("-1 ^ 2"),
    both("7 % -3"),
    both("1 / 0 - 0 / 0"),
    both("flaky_ratio > 0.5"),
    both("flaky_ratio == bool flaky_ratio"),
    both("-flaky_ratio"),
    both("up > bool 0.5"),
    both("time() > bool 1767229200"),
    both(r#"vector(1) and on() up{instance="b0"}"#),
    both("2 > bool up"),
    both("queue_depth > on(job, instance) group_left avg by (job, instance) (queue_depth)"),
    both("(up == 1) unless (up offset 30m == 1)"),
    both(r#"up{instance="a0"} + 1 > 1.5"#),
    both("1 + 2 * 3 ^ 2 % 5 - -2 ^ 2"),
    both(
        r#"http_requests_total{job="api"} - on(job, instance, method, code) http_requests_total{job="api"} offset 10m"#,
    ),
    error("up and on(job) group_left queue_depth"),
    error("http_requests_total / on(job) up"),
    error("up * on(job, instance) group_left http_requests_total"),
    error("vector(1) + on() group_left up"),
    // ---- labels, absence, conversions, time
    both(r#"label_replace(up, "host", "$1", "instance", "(.*)0")"#),
    both(r#"label_replace(disk_used_bytes, "disk", "$1-$2", "device", "sd(.)(.*)")"#),
    both(r#"label_replace(temperature_celsius, "sensor", "", "sensor", "cpu")"#),
    both(r#"label_join(up, "id", "/", "job", "instance")"#),
    error(r#"label_replace(up, "instance", "x", "job", ".*")"#),
    error(r#"label_replace(up, "x", "$1", "instance", "(")"#),
    error("rate(up)"),
    error("sum(up"),
    both(r#"absent(up{job="nonexistent"})"#),
    both(r#"absent(rate(nonexistent{job="x"}[5m]))"#),
    both("absent(sum(nonexistent))"),
    both(r#"absent_over_time(nonexistent{job="x", instance!="y"}[5m])"#),
    both(r#"vector(scalar(up{instance="a0"}))"#),
    both(r#"label_replace(up, "x", "${1}-$2", "instance", "(.)(.)")"#),
    both(r#"label_replace(up, "x", "$1", "instance", "z(.*)")"#),
    both(r#"label_join(up, "job", ",")"#),
    both(r#"absent(nonexistent_metric{job="x", instance=~"y"})"#),
    both("absent(up)"),
    both(r#"absent_over_time(batch_last_success_timestamp_seconds{instance="b0"}[10m])"#),
    both("absent_over_time(nonexistent[5m])"),
    both(r#"scalar(up{instance="a0"})"#),
    both("scalar(up)"),
    both("vector(time())"),
    both("time()"),
    both("pi()"),
    both("hour()"),
    both("minute(batch_last_success_timestamp_seconds)"),
    both("day_of_week(batch_last_success_timestamp_seconds)"),
    both("day_of_month()"),
    both("day_of_year(vector(time()))"),
    both("days_in_month(vector(1738368000))"),
    both("month(vector(1709251199))"),
    both("year()"),
    instant(r#""a string""#),
    // ---- ordering, clamping, rounding, timestamps, arithmetic functions
    both("sort(temperature_celsius)"),
    both("sort_desc(sum by (instance) (rate(http_requests_total[5m])))"),
    both("clamp(temperature_celsius, 40, 50)"),
    both("clamp(temperature_celsius, 50, 40)"),
    both("clamp_min(queue_depth, 5)"),
    both("clamp_max(temperature_celsius, 42.5)"),
    both("clamp(flaky_ratio, 0.2, 0.8)"),
    both("round(flaky_ratio)"),
    both("sort(flaky_ratio)"),
    both("sort_desc(flaky_ratio)"),
    both("round(temperature_celsius)"),
    both("round(temperature_celsius, 0.1)"),
    both("round(queue_depth, 5)"),
    both("timestamp(temperature_celsius)"),
    both("time() - timestamp(up)"),
    both("abs(-temperature_celsius)"),
    both("ceil(temperature_celsius) - floor(temperature_celsius)"),
    both("sqrt(queue_depth)"),
    both("exp(queue_depth / 10)"),
    both("ln(queue_depth)"),
    both("log2(node_memory_free_bytes) + log10(node_memory_free_bytes)"),
    both("sgn(temperature_celsius - 45)"),
    both("sin(temperature_celsius) + cos(temperature_celsius) + tan(temperature_celsius)"),
    both("asin(flaky_ratio) + acos(flaky_ratio) + atan(flaky_ratio)"),
    both("sinh(queue_depth / 10) + cosh(queue_depth / 10) + tanh(queue_depth / 10)"),
    both("asinh(queue_depth) + acosh(queue_depth) + atanh(flaky_ratio)"),
    both("deg(temperature_celsius) - rad(temperature_celsius)"),
    // ---- subqueries
    both(r#"max_over_time(rate(http_requests_total{job="api"}[5m])[20m10s:1m])"#),
    both("avg_over_time(sum by (job) (rate(http_requests_total[5m]))[10m10s:30s])"),
    both("min_over_time(temperature_celsius[5m10s:15s])"),
    both("max_over_time(temperature_celsius[10m10s:])"),
    both(r#"rate(http_requests_total{instance="a0", code="200"}[5m10s:30s])"#),
    both("quantile_over_time(0.5, deriv(temperature_celsius[5m])[30m10s:2m])"),
    both("min_over_time(max_over_time(temperature_celsius[5m10s:15s])[20m10s:1m])"),
    both("max_over_time(temperature_celsius[10m10s:1m] offset 30m)"),
    both("sum_over_time(up[30m10s:1m] @ 1767229200)"),
    instant(r#"rate(http_requests_total{instance="a0", code="200"}[5m])[5m10s:1m]"#),
];

/// `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values` requests (path and
/// query string, not yet encoded: `match[]` values are encoded by the caller).
pub(crate) struct MetaQuery {
    pub(crate) path: &'static str,
    pub(crate) matchers: &'static [&'static str],
    /// (start, end) in ms, or the whole time range.
    pub(crate) range: Option<(i64, i64)>,
}

pub(crate) const META_QUERIES: &[MetaQuery] = &[
    MetaQuery {
        path: "/api/v1/series",
        matchers: &["up"],
        range: None,
    },
    MetaQuery {
        path: "/api/v1/series",
        matchers: &[
            r#"http_requests_total{job="api", code=~"5.."}"#,
            r#"build_info{job="node"}"#,
        ],
        range: None,
    },
    // b0's last-success series stopped at 50 min and b1's series at 70 min: only
    // batch_processed_total{instance="b0"} has samples from 100 min on.
    MetaQuery {
        path: "/api/v1/series",
        matchers: &[r#"{__name__=~"batch_.*"}"#],
        range: Some((T0_MS + 100 * MIN_MS, T0_MS + 120 * MIN_MS)),
    },
    // b0 starts at 30 min.
    MetaQuery {
        path: "/api/v1/series",
        matchers: &[r#"{__name__=~"batch_.*|up", instance=~"b."}"#],
        range: Some((T0_MS, T0_MS + 20 * MIN_MS)),
    },
    MetaQuery {
        path: "/api/v1/series",
        matchers: &[r#"{__name__=~".+"}"#],
        range: None,
    },
    MetaQuery {
        path: "/api/v1/labels",
        matchers: &[],
        range: None,
    },
    MetaQuery {
        path: "/api/v1/labels",
        matchers: &["temperature_celsius", r#"disk_used_bytes{device!="sda1"}"#],
        range: None,
    },
    MetaQuery {
        path: "/api/v1/label/__name__/values",
        matchers: &[],
        range: None,
    },
    MetaQuery {
        path: "/api/v1/label/instance/values",
        matchers: &[],
        range: None,
    },
    // With matchers, Prometheus takes label values from the index of every block that overlaps
    // the range, whether or not the series has samples in it (b1's `up` stops at 70 min but
    // would still be listed for 100-120 min); promlet answers exactly. So only ranges where
    // both rules agree: all of the data, and a range past its end.
    MetaQuery {
        path: "/api/v1/label/instance/values",
        matchers: &[r#"up{job="batch"}"#],
        range: Some((T0_MS + 20 * MIN_MS, T0_MS + 120 * MIN_MS)),
    },
    MetaQuery {
        path: "/api/v1/label/instance/values",
        matchers: &[r#"up{job="batch"}"#],
        range: Some((T0_MS + 300 * MIN_MS, T0_MS + 320 * MIN_MS)),
    },
    MetaQuery {
        path: "/api/v1/series",
        matchers: &["up"],
        range: Some((T0_MS + 300 * MIN_MS, T0_MS + 320 * MIN_MS)),
    },
    // Without matchers too, a range with no data in it has no label names or values.
    MetaQuery {
        path: "/api/v1/labels",
        matchers: &[],
        range: Some((T0_MS + 300 * MIN_MS, T0_MS + 320 * MIN_MS)),
    },
    MetaQuery {
        path: "/api/v1/label/job/values",
        matchers: &[],
        range: Some((T0_MS + 300 * MIN_MS, T0_MS + 320 * MIN_MS)),
    },
    MetaQuery {
        path: "/api/v1/label/le/values",
        matchers: &[],
        range: None,
    },
    MetaQuery {
        path: "/api/v1/label/nonexistent/values",
        matchers: &[],
        range: None,
    },
];

/// A request that exercises the API's parameter handling rather than PromQL: written out
/// already encoded.
pub(crate) struct ApiRequest {
    pub(crate) what: &'static str,
    /// The path, with its query string for a GET.
    pub(crate) path: &'static str,
    /// For a POST, the form-encoded body.
    pub(crate) form: Option<&'static str>,
    /// Both must refuse it (same errorType and HTTP status).
    pub(crate) error: bool,
}

const fn get(what: &'static str, path: &'static str, error: bool) -> ApiRequest {
    ApiRequest {
        what,
        path,
        form: None,
        error,
    }
}

const fn post(what: &'static str, path: &'static str, form: &'static str) -> ApiRequest {
    ApiRequest {
        what,
        path,
        form: Some(form),
        error: false,
    }
}

pub(crate) const API_REQUESTS: &[ApiRequest] = &[
    get(
        "an RFC 3339 time",
        "/api/v1/query?query=up&time=2026-01-01T00:40:00Z",
        false,
    ),
    get(
        "an RFC 3339 time with an offset and milliseconds",
        "/api/v1/query?query=up&time=2026-01-01T01:40:00.000%2B01:00",
        false,
    ),
    get(
        "RFC 3339 start and end, a duration step",
        "/api/v1/query_range?query=sum%28up%29&start=2026-01-01T00:10:00Z&end=2026-01-01T01:10:00Z&step=5m",
        false,
    ),
    get(
        "a compound duration step",
        "/api/v1/query_range?query=count%28temperature_celsius%29&start=1767226200&end=1767229800&step=1m30s",
        false,
    ),
    post(
        "an instant query as a POST form",
        "/api/v1/query",
        "query=sum+by+%28job%29+%28rate%28http_requests_total%5B5m%5D%29%29&time=1767229200",
    ),
    post(
        "a range query as a POST form",
        "/api/v1/query_range",
        "query=histogram_quantile%280.9%2C+sum+by+%28le%29+%28rate%28request_duration_seconds_bucket%5B5m%5D%29%29%29&start=1767225600&end=1767233400&step=60",
    ),
    post(
        "series as a POST form",
        "/api/v1/series",
        "match%5B%5D=up%7Bjob%3D%22node%22%7D&match%5B%5D=build_info%7Bjob%3D%22web%22%7D",
    ),
    get(
        "a range query whose end is before its start",
        "/api/v1/query_range?query=up&start=1767229800&end=1767226200&step=60",
        true,
    ),
    get(
        "a range query of more than 11,000 points",
        "/api/v1/query_range?query=up&start=1767225600&end=1767233400&step=0.5",
        true,
    ),
    get(
        "a zero step",
        "/api/v1/query_range?query=up&start=1767225600&end=1767233400&step=0",
        true,
    ),
    get(
        "an empty query",
        "/api/v1/query?query=&time=1767229200",
        true,
    ),
    get("a bad time", "/api/v1/query?query=up&time=yesterday", true),
    get(
        "a range vector as a range query",
        "/api/v1/query_range?query=up%5B5m%5D&start=1767225600&end=1767233400&step=60",
        true,
    ),
    get(
        "a string as a range query",
        "/api/v1/query_range?query=%22x%22&start=1767225600&end=1767233400&step=60",
        true,
    ),
    get("series without match[]", "/api/v1/series", true),
    get(
        "series with a bad selector",
        "/api/v1/series?match[]=up%7B",
        true,
    ),
    // Not `not-a-name`: Prometheus 3 accepts any UTF-8 label name, 2.42 only [a-zA-Z_][a-zA-Z0-9_]*.
    // Bytes that are not UTF-8 are invalid in both.
    get(
        "values of a label name that is not UTF-8",
        "/api/v1/label/%FF/values",
        true,
    ),
];
