//! `/proc/stat`, parsed as Go's `prometheus/procfs` v0.8 (node_exporter 1.5) parses it.

/// The modes of a `cpuN` line, in file order: user, nice, system, idle, iowait, irq,
/// softirq, steal, guest, guest_nice.
pub(crate) const CPU_FIELDS: usize = 10;

/// One `cpuN` line: the CPU number and its times in seconds (ticks / USER_HZ), in
/// [`CPU_FIELDS`] order; fields an old kernel does not print are 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CpuLine {
    /// The `N` of `cpuN`.
    pub(crate) id: u32,
    /// Seconds per mode.
    pub(crate) seconds: [f64; CPU_FIELDS],
}

/// The per-CPU lines of `/proc/stat` (the aggregate `cpu` line is left out); `None` when a
/// line is malformed.
pub(crate) fn cpu_lines(text: &str, user_hz: f64) -> Option<Vec<CpuLine>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("cpu") else {
            continue;
        };
        // The aggregate line is `cpu  ...`: a blank right after `cpu`.
        if rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let mut fields = rest.split_ascii_whitespace();
        let Some(Ok(id)) = fields.next().map(str::parse::<u32>) else {
            return None;
        };
        let mut seconds = [0.0; CPU_FIELDS];
        let mut n = 0;
        for (slot, f) in seconds.iter_mut().zip(fields) {
            *slot = f.parse::<f64>().ok()? / user_hz;
            n += 1;
        }
        if n == 0 {
            return None;
        }
        out.push(CpuLine { id, seconds });
    }
    Some(out)
}

/// The system-wide counters of `/proc/stat` that the `stat` reader exposes; a line the
/// kernel does not print stays 0, as in node_exporter.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Totals {
    /// The first number of the `intr` line: interrupts serviced.
    pub(crate) intr: f64,
    /// `ctxt`: context switches.
    pub(crate) ctxt: f64,
    /// `btime`: boot time, seconds since the epoch.
    pub(crate) btime: f64,
    /// `processes`: forks since boot.
    pub(crate) processes: f64,
    /// `procs_running`.
    pub(crate) running: f64,
    /// `procs_blocked`.
    pub(crate) blocked: f64,
}

/// Parses the [`Totals`]; `Err` names the line that does not parse.
pub(crate) fn totals(text: &str) -> Result<Totals, String> {
    let mut t = Totals::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let slot = match fields.next() {
            Some("intr") => &mut t.intr,
            Some("ctxt") => &mut t.ctxt,
            Some("btime") => &mut t.btime,
            Some("processes") => &mut t.processes,
            Some("procs_running") => &mut t.running,
            Some("procs_blocked") => &mut t.blocked,
            _ => continue,
        };
        let v = fields
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("couldn't parse line {line:?}"))?;
        *slot = v as f64;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  10 20 30 40 50 60 70 80 90 100\n\
cpu0 100 2 3 4 5 6 7 8 9 10\n\
cpu2 1 2 3 4\n\
intr 12345 1 2 3\n\
ctxt 99\n\
btime 1700000000\n\
processes 77\n\
procs_running 3\n\
procs_blocked 1\n\
softirq 5 1 1\n";

    #[test]
    fn cpu_lines_keep_ids_and_pad_old_kernels() {
        let lines = cpu_lines(STAT, 100.0).unwrap_or_default();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].id, 0);
        assert_eq!(lines[0].seconds[0], 1.0);
        assert_eq!(lines[0].seconds[9], 0.1);
        assert_eq!(lines[1].id, 2);
        assert_eq!(lines[1].seconds[3], 0.04);
        assert_eq!(lines[1].seconds[4], 0.0);
    }

    #[test]
    fn totals_read_every_counter() {
        let t = totals(STAT).unwrap_or_default();
        assert_eq!(
            t,
            Totals {
                intr: 12345.0,
                ctxt: 99.0,
                btime: 1_700_000_000.0,
                processes: 77.0,
                running: 3.0,
                blocked: 1.0
            }
        );
        assert!(totals("ctxt x\n").is_err());
    }

    #[test]
    fn malformed_cpu_line_is_none() {
        assert!(cpu_lines("cpu0 1 x\n", 100.0).is_none());
    }
}
