//! What one cgroup's files say, in seconds and bytes, and the pure parsers of those files.

/// CPU time used by a cgroup (cAdvisor `setCPUStats`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuStats {
    /// Total CPU time, seconds (v2 `usage_usec`; v1 `cpuacct.usage`).
    pub usage_seconds: f64,
    /// User CPU time, seconds (v2 `user_usec`; v1 `cpuacct.stat` user ticks / 100).
    pub user_seconds: Option<f64>,
    /// System CPU time, seconds.
    pub system_seconds: Option<f64>,
}

/// CFS bandwidth throttling (v2 `cpu.stat`, v1 `cpu/cpu.stat`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Throttling {
    /// Elapsed enforcement periods.
    pub periods: f64,
    /// Periods in which the cgroup was throttled.
    pub throttled_periods: f64,
    /// Total time throttled, seconds.
    pub throttled_seconds: f64,
}

/// Memory use (cAdvisor `setMemoryStats`); all in bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryStats {
    /// v2 `memory.current` (root: `anon + file`); v1 `memory.usage_in_bytes`.
    pub usage_bytes: f64,
    /// `usage - inactive_file` (v1 `total_inactive_file`), floored at 0.
    pub working_set_bytes: f64,
    /// v2 `anon`; v1 `total_rss`.
    pub rss_bytes: f64,
    /// v2 `file`; v1 `total_cache`.
    pub cache_bytes: f64,
    /// v2 `file_mapped`; v1 `total_mapped_file`.
    pub mapped_file_bytes: f64,
    /// v2 `inactive_file`; v1 `total_inactive_file`.
    pub inactive_file_bytes: f64,
    /// v2 `active_file`; v1 `total_active_file`.
    pub active_file_bytes: f64,
    /// v2 `memory.swap.current`; v1 `total_swap`, when swap is accounted.
    pub swap_bytes: Option<f64>,
    /// v2 `memory.peak`; v1 `memory.max_usage_in_bytes`, when present.
    pub max_usage_bytes: Option<f64>,
    /// v1 `memory.failcnt` (a count, not bytes); v2 has none.
    pub failcnt: Option<f64>,
}

/// Block I/O of one device (v2 `io.stat`; v1 `blkio.*io_service{d,_bytes}_recursive`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IoStats {
    /// Device major number.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
    /// Bytes read.
    pub read_bytes: f64,
    /// Bytes written.
    pub write_bytes: f64,
    /// Read operations.
    pub reads: f64,
    /// Write operations.
    pub writes: f64,
}

/// Task counts (`pids` controller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PidsStats {
    /// `pids.current`: tasks (threads) in the cgroup.
    pub current: f64,
    /// `pids.max`; `None` when unlimited (`max`).
    pub max: Option<f64>,
}

/// Everything read from one cgroup; a controller not mounted or not enabled is `None`/empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupStats {
    /// CPU time.
    pub cpu: Option<CpuStats>,
    /// CFS throttling (only where a quota can apply).
    pub throttling: Option<Throttling>,
    /// Memory.
    pub memory: Option<MemoryStats>,
    /// Block I/O per device, sorted by device.
    pub io: Vec<IoStats>,
    /// Tasks.
    pub pids: Option<PidsStats>,
}

/// v1 `cpuacct.stat` counts in USER_HZ, which is 100 on every Linux ABI.
const USER_HZ: f64 = 100.0;

/// `key value` lines, each value parsed as `f64` (skips malformed lines).
pub(crate) fn key_values(text: &str) -> impl Iterator<Item = (&str, f64)> {
    text.lines().filter_map(|l| {
        let (k, v) = l.split_once(' ')?;
        Some((k, v.trim().parse::<f64>().ok()?))
    })
}

/// A file holding one number (`max` and malformed text are `None`).
pub(crate) fn single(text: &str) -> Option<f64> {
    text.trim().parse().ok()
}

/// v2 `cpu.stat`: usage and, when `nr_periods` is present, throttling.
pub(crate) fn cpu_stat_v2(text: &str) -> (Option<CpuStats>, Option<Throttling>) {
    let (mut usage, mut cpu, mut thr) = (None, CpuStats::default(), None::<Throttling>);
    for (k, v) in key_values(text) {
        match k {
            "usage_usec" => usage = Some(v / 1e6),
            "user_usec" => cpu.user_seconds = Some(v / 1e6),
            "system_usec" => cpu.system_seconds = Some(v / 1e6),
            "nr_periods" => thr.get_or_insert_default().periods = v,
            "nr_throttled" => thr.get_or_insert_default().throttled_periods = v,
            "throttled_usec" => thr.get_or_insert_default().throttled_seconds = v / 1e6,
            _ => {}
        }
    }
    let cpu = usage.map(|u| CpuStats {
        usage_seconds: u,
        ..cpu
    });
    (cpu, thr)
}

/// v1 `cpuacct.usage` (ns) and `cpuacct.stat` (USER_HZ ticks).
pub(crate) fn cpuacct_v1(usage: &str, stat: Option<&str>) -> Option<CpuStats> {
    let mut cpu = CpuStats {
        usage_seconds: single(usage)? / 1e9,
        ..CpuStats::default()
    };
    for (k, v) in stat.map(key_values).into_iter().flatten() {
        match k {
            "user" => cpu.user_seconds = Some(v / USER_HZ),
            "system" => cpu.system_seconds = Some(v / USER_HZ),
            _ => {}
        }
    }
    Some(cpu)
}

/// v1 `cpu.stat`: `nr_periods`, `nr_throttled`, `throttled_time` (ns).
pub(crate) fn cpu_stat_v1(text: &str) -> Option<Throttling> {
    let mut thr = None::<Throttling>;
    for (k, v) in key_values(text) {
        match k {
            "nr_periods" => thr.get_or_insert_default().periods = v,
            "nr_throttled" => thr.get_or_insert_default().throttled_periods = v,
            "throttled_time" => thr.get_or_insert_default().throttled_seconds = v / 1e9,
            _ => {}
        }
    }
    thr
}

/// Memory from `memory.stat` keys (`prefix` is `""` on v2, `"total_"` on v1) and the usage.
/// `usage` `None` (the v2 root) is emulated as `anon + file`, as runc does.
pub(crate) fn memory(stat: &str, v1: bool, usage: Option<f64>) -> MemoryStats {
    let mut m = MemoryStats::default();
    let (mut inactive, mut swap) = (None, None);
    for (k, v) in key_values(stat) {
        let key = if v1 {
            match k.strip_prefix("total_") {
                Some(k) => k,
                None => continue,
            }
        } else {
            k
        };
        match (key, v1) {
            ("anon", false) | ("rss", true) => m.rss_bytes = v,
            ("file", false) | ("cache", true) => m.cache_bytes = v,
            ("file_mapped", false) | ("mapped_file", true) => m.mapped_file_bytes = v,
            ("inactive_file", _) => inactive = Some(v),
            ("active_file", _) => m.active_file_bytes = v,
            ("swap", true) => swap = Some(v),
            _ => {}
        }
    }
    m.usage_bytes = usage.unwrap_or(m.rss_bytes + m.cache_bytes);
    m.inactive_file_bytes = inactive.unwrap_or(0.0);
    m.working_set_bytes = match inactive {
        Some(i) if i < m.usage_bytes => m.usage_bytes - i,
        Some(_) => 0.0,
        None => m.usage_bytes,
    };
    m.swap_bytes = swap;
    m
}

/// v2 `io.stat`: `MAJ:MIN rbytes=… wbytes=… rios=… wios=… …` per line.
pub(crate) fn io_stat_v2(text: &str) -> Vec<IoStats> {
    let mut out: Vec<IoStats> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let mut io = device(f.next()?)?;
            for kv in f {
                let Some((k, v)) = kv.split_once('=') else {
                    continue;
                };
                let v: f64 = v.parse().unwrap_or(0.0);
                match k {
                    "rbytes" => io.read_bytes = v,
                    "wbytes" => io.write_bytes = v,
                    "rios" => io.reads = v,
                    "wios" => io.writes = v,
                    _ => {}
                }
            }
            Some(io)
        })
        .collect();
    out.sort_by_key(|d| (d.major, d.minor));
    out
}

/// v1 blkio `…io_service_bytes…` and `…io_serviced…`: `MAJ:MIN Read N` lines (`Total N` last).
pub(crate) fn blkio_v1(bytes: &str, ops: Option<&str>) -> Vec<IoStats> {
    let mut out: Vec<IoStats> = Vec::new();
    for (text, is_bytes) in [(Some(bytes), true), (ops, false)] {
        for l in text.into_iter().flat_map(str::lines) {
            let mut f = l.split_whitespace();
            let (Some(dev), Some(op), Some(v)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let (Some(d), Ok(v)) = (device(dev), v.parse::<f64>()) else {
                continue;
            };
            let i = match out
                .iter()
                .position(|o| (o.major, o.minor) == (d.major, d.minor))
            {
                Some(i) => i,
                None => {
                    out.push(d);
                    out.len() - 1
                }
            };
            let e = &mut out[i];
            match (op, is_bytes) {
                ("Read", true) => e.read_bytes = v,
                ("Write", true) => e.write_bytes = v,
                ("Read", false) => e.reads = v,
                ("Write", false) => e.writes = v,
                _ => {}
            }
        }
    }
    out.sort_by_key(|d| (d.major, d.minor));
    out
}

fn device(s: &str) -> Option<IoStats> {
    let (maj, min) = s.split_once(':')?;
    Some(IoStats {
        major: maj.parse().ok()?,
        minor: min.parse().ok()?,
        ..IoStats::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_set_floors_and_falls_back() {
        let v2 = "anon 100\nfile 50\ninactive_file 30\n";
        assert_eq!(memory(v2, false, Some(200.0)).working_set_bytes, 170.0);
        assert_eq!(memory(v2, false, Some(10.0)).working_set_bytes, 0.0);
        assert_eq!(
            memory("anon 1\n", false, Some(10.0)).working_set_bytes,
            10.0
        );
        // v2 root: usage emulated from anon + file.
        assert_eq!(memory(v2, false, None).usage_bytes, 150.0);
        let v1 = "rss 1\ninactive_file 99\ntotal_rss 100\ntotal_cache 40\ntotal_inactive_file 30\ntotal_swap 5\n";
        let m = memory(v1, true, Some(140.0));
        assert_eq!(
            (m.rss_bytes, m.cache_bytes, m.working_set_bytes),
            (100.0, 40.0, 110.0)
        );
        assert_eq!(m.swap_bytes, Some(5.0));
    }

    #[test]
    fn cpu_files() {
        let (cpu, thr) = cpu_stat_v2("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n");
        assert_eq!(cpu.map(|c| c.usage_seconds), Some(1.5));
        assert_eq!(thr, None);
        let t = cpu_stat_v1("nr_periods 10\nnr_throttled 2\nthrottled_time 3000000000\n");
        assert_eq!(t.map(|t| t.throttled_seconds), Some(3.0));
        let c = cpuacct_v1("2500000000\n", Some("user 150\nsystem 50\n"));
        assert_eq!(
            c.map(|c| (c.usage_seconds, c.user_seconds)),
            Some((2.5, Some(1.5)))
        );
    }

    #[test]
    fn io_files() {
        let v2 =
            io_stat_v2("259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=5\n");
        assert_eq!(v2.len(), 2);
        assert_eq!((v2[0].major, v2[0].read_bytes), (8, 5.0));
        let v1 = blkio_v1(
            "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n",
            Some("8:0 Read 1\n8:0 Write 2\n"),
        );
        assert_eq!(
            v1,
            vec![IoStats {
                major: 8,
                minor: 0,
                read_bytes: 10.0,
                write_bytes: 20.0,
                reads: 1.0,
                writes: 2.0
            }]
        );
    }
}
