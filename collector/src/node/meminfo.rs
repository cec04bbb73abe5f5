//! The `meminfo` reader: node_exporter 1.5's `meminfo` collector (`collector/meminfo_linux.go`).
//!
//! Every `/proc/meminfo` line becomes `node_memory_<Key>` as node_exporter names it:
//! `Active(anon)` becomes `Active_anon`, and a value with a unit (always `kB`) is multiplied
//! by 1024 and gets the suffix `_bytes` (`node_memory_MemAvailable_bytes`); a value without a
//! unit keeps its name (`node_memory_HugePages_Total`). All are gauges, as in node_exporter
//! (which would make a `_total` key a counter; the kernel prints none).

use std::path::{Path, PathBuf};

use super::util::{self, gauge_of};
use crate::{Collect, CollectError, CollectStats, Family, Kind};

const NAME: &str = "meminfo";

/// Reads `/proc/meminfo`.
#[derive(Debug, Clone)]
pub struct MeminfoCollector {
    path: PathBuf,
}

impl MeminfoCollector {
    /// A reader of `<proc_root>/meminfo`.
    pub fn new(proc_root: &Path) -> Self {
        Self {
            path: proc_root.join("meminfo"),
        }
    }
}

impl Collect for MeminfoCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let text = util::read(NAME, &self.path)?;
        for line in text.lines() {
            let Some((key, value)) =
                parse_line(line).map_err(|e| util::parse_error(NAME, &self.path, &e))?
            else {
                continue;
            };
            let name = format!("node_memory_{key}");
            let help = format!("Memory information field {key}.");
            let mut fam = gauge_of(&name, &help, value);
            if key.ends_with("_total") {
                fam.kind = Kind::Counter;
            }
            out.push(fam);
        }
        Ok(CollectStats::default())
    }
}

/// One line: `Key:  value [kB]` → (`Key` or `Key_bytes`, value in bytes or as is); `None`
/// for a blank line.
fn parse_line(line: &str) -> Result<Option<(String, f64)>, String> {
    let mut parts = line.split_ascii_whitespace();
    let Some(raw_key) = parts.next() else {
        return Ok(None);
    };
    let (Some(value), unit, None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("invalid line in meminfo: {line}"));
    };
    let mut value: f64 = value
        .parse()
        .map_err(|e| format!("invalid value in meminfo: {e}"))?;
    let mut key = go_key(raw_key.strip_suffix(':').unwrap_or(raw_key));
    if unit.is_some() {
        value *= 1024.0;
        key.push_str("_bytes");
    }
    Ok(Some((key, value)))
}

/// node_exporter's `\((.*)\)` → `_${1}`: the text from the first `(` to the last `)`.
fn go_key(key: &str) -> String {
    match (key.find('('), key.rfind(')')) {
        (Some(open), Some(close)) if open < close => {
            format!(
                "{}_{}{}",
                &key[..open],
                &key[open + 1..close],
                &key[close + 1..]
            )
        }
        _ => key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_node_exporter_names_them() {
        let cases = [
            (
                "MemTotal:       16384 kB",
                Some(("MemTotal_bytes", 16_777_216.0)),
            ),
            ("Active(anon):   1 kB", Some(("Active_anon_bytes", 1024.0))),
            ("HugePages_Total:       0", Some(("HugePages_Total", 0.0))),
            ("", None),
        ];
        for (line, want) in cases {
            let got = parse_line(line).unwrap_or_default();
            assert_eq!(
                got.as_ref().map(|(k, v)| (k.as_str(), *v)),
                want,
                "line {line:?}"
            );
        }
        assert!(parse_line("MemTotal: x kB").is_err());
        assert!(parse_line("MemTotal: 1 kB extra").is_err());
        assert!(parse_line("MemTotal:").is_err());
    }
}
