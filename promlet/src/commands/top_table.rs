//! `kubectl top`'s cells and table layout: CPU in millicores rounded up, memory in MiB rounded
//! down, percentages truncated, and Go's tabwriter with kubectl's settings (minimum width 6,
//! padding 3, every cell followed by a tab, so the last column is padded too).

/// kubectl's minimum cell width, padding included.
const MIN_WIDTH: usize = 6;
/// kubectl's padding after each cell.
const PADDING: usize = 3;

/// `CPU(cores)`: nanocores as millicores, rounded up (Quantity.MilliValue).
pub(crate) fn cpu_cell(nanocores: f64) -> String {
    format!("{}m", (nanocores / 1e6).ceil() as i64)
}

/// `MEMORY(bytes)`: bytes as whole MiB, rounded down.
pub(crate) fn memory_cell(bytes: f64) -> String {
    format!("{}Mi", (bytes.ceil() as i64) / (1024 * 1024))
}

/// `CPU(%)` and `MEMORY(%)`: `usage` of `capacity`, truncated; `<unknown>` without a
/// capacity.
pub(crate) fn percent_cell(usage: f64, capacity: f64) -> String {
    if capacity > 0.0 {
        format!("{}%", (usage / capacity * 100.0).trunc() as i64)
    } else {
        "<unknown>".to_string()
    }
}

/// The rows laid out as kubectl's tabwriter does: each column as wide as its widest cell
/// plus the padding, at least the minimum width.
pub(crate) fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            let widest = rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0);
            (widest + PADDING).max(MIN_WIDTH)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (cell, width) in row.iter().zip(&widths) {
            out.push_str(cell);
            let pad = width.saturating_sub(cell.chars().count());
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push('\n');
    }
    out
}

/// The `p`-th percentile (0–100) of `values` by nearest rank; 0 when empty.
pub(crate) fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return 0.0;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_as_kubectl_does() {
        assert_eq!(cpu_cell(2_082_398.0), "3m");
        assert_eq!(cpu_cell(250_000_000.0), "250m");
        assert_eq!(cpu_cell(0.0), "0m");
        assert_eq!(memory_cell(104_858_600.0), "100Mi");
        assert_eq!(memory_cell(1000.0), "0Mi");
        assert_eq!(percent_cell(100.0, 4000.0), "2%");
        assert_eq!(percent_cell(1.0, 0.0), "<unknown>");
    }

    #[test]
    fn layout_matches_the_tabwriter() {
        let rows = vec![
            vec![
                "NAME".to_string(),
                "CPU(cores)".to_string(),
                "CPU(%)".to_string(),
            ],
            vec![
                "edge-node-1".to_string(),
                "2510m".to_string(),
                "62%".to_string(),
            ],
        ];
        assert_eq!(
            render(&rows),
            "NAME          CPU(cores)   CPU(%)   \nedge-node-1   2510m        62%      \n"
        );
        let short = vec![vec!["a".to_string(), "b".to_string()]];
        assert_eq!(render(&short), "a     b     \n", "minimum width 6");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 95.0), 19.0);
        assert_eq!(percentile(&v, 100.0), 20.0);
        assert_eq!(percentile(&[5.0], 95.0), 5.0);
        assert_eq!(percentile(&[], 95.0), 0.0);
    }
}
