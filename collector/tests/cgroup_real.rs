//! The cgroup collector against this machine's real cgroup hierarchy (v1, v2 or hybrid).
//!
//! As root, the test makes two cgroups below its own cgroup in every hierarchy the collector
//! reads, moves one child process into each (the test binary itself, re-run with
//! `PROMLET_CGROUP_CHILD=burn|hold`), and lets them work only after the move (a byte on a pipe):
//! `burn` spins until its own CPU clock (`/proc/thread-self/schedstat`) shows 0.5 s, `hold`
//! allocates and touches 64 MiB, then waits for its stdin to close. The collector's figures must
//! match within the tolerances below. Children are killed and the cgroups removed on every path
//! (drop guards). Where cgroups cannot be created (not root, read-only `/sys`), the test says so
//! on stderr and passes without checking.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use collector::cgroup::{CgroupCollector, Config, Controller, Source};
use collector::{Collect, Family};

const CHILD_ENV: &str = "PROMLET_CGROUP_CHILD";
const BURN_SECONDS: f64 = 0.5;
/// CPU usage must lie within ±20% of the burn (the child's start-up also counts).
const CPU_TOLERANCE: f64 = 0.2;
const HOLD_BYTES: usize = 64 << 20;
/// Memory usage, working set and RSS must lie in [64 MiB, 64 MiB + 16 MiB]: the child's own
/// binary, stack and heap are charged too, and v1 batches charges per CPU.
const MEM_SLACK: f64 = (16 << 20) as f64;

/// Not a test of its own: the body of the child processes (a no-op unless `CHILD_ENV` is set).
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut go = [0u8; 1];
    if std::io::stdin().read_exact(&mut go).is_err() {
        std::process::exit(2);
    }
    let mut out = std::io::stdout();
    match role.as_str() {
        "burn" => {
            burn(BURN_SECONDS);
            let _ = writeln!(out, "PROMLET_DONE");
            let _ = out.flush();
            std::process::exit(0);
        }
        "hold" => {
            let mut mem = vec![0u8; HOLD_BYTES];
            for i in (0..mem.len()).step_by(4096) {
                mem[i] = 1;
            }
            std::hint::black_box(&mem);
            let _ = writeln!(out, "PROMLET_READY");
            let _ = out.flush();
            let mut rest = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut rest);
            std::hint::black_box(&mem);
            std::process::exit(0);
        }
        _ => std::process::exit(3),
    }
}

/// This thread's CPU time in seconds (first field of schedstat: ns on the CPU).
fn thread_cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns: f64 = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    ns / 1e9
}

fn burn(seconds: f64) {
    let start = thread_cpu_seconds();
    let mut x = 1u64;
    while thread_cpu_seconds() - start < seconds {
        for _ in 0..100_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

/// A child process, killed and reaped when dropped.
struct Kid {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Kid {
    fn spawn(role: &str) -> Kid {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
        let mut child = Command::new(exe)
            .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {role}: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        Kid {
            child,
            stdout: BufReader::new(stdout),
        }
    }

    fn go(&mut self) {
        let stdin = self
            .child
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("no stdin"));
        stdin.write_all(b"g").unwrap_or_else(|e| panic!("go: {e}"));
        stdin.flush().unwrap_or_else(|e| panic!("go: {e}"));
    }

    /// Reads the child's output until `marker` (the harness prints its own lines first).
    fn wait_for(&mut self, marker: &str) {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self
                .stdout
                .read_line(&mut line)
                .unwrap_or_else(|e| panic!("read: {e}"));
            assert!(n > 0, "child exited before {marker}");
            if line.contains(marker) {
                return;
            }
        }
    }

    fn wait_exit(&mut self) {
        let status = self.child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
        assert!(status.success(), "child failed: {status}");
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One test cgroup: its directory in each hierarchy, removed when dropped (after the kids).
struct Group {
    /// (mount, cgroup id in that hierarchy, controllers read from it).
    dirs: Vec<(PathBuf, String, u8)>,
}

impl Group {
    fn dir(&self, c: Controller) -> Option<&str> {
        let bit = 1u8 << Controller::ALL.iter().position(|x| *x == c).unwrap_or(0);
        self.dirs
            .iter()
            .find(|(_, _, m)| m & bit != 0)
            .map(|(_, id, _)| id.as_str())
    }

    fn add(&self, pid: u32) {
        for (mount, id, _) in &self.dirs {
            let procs = mount.join(id.trim_start_matches('/')).join("cgroup.procs");
            std::fs::write(&procs, pid.to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", procs.display()));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        for (mount, id, _) in &self.dirs {
            let dir = mount.join(id.trim_start_matches('/'));
            // A just-reaped task can keep the cgroup busy for a moment.
            let deadline = Instant::now() + Duration::from_secs(5);
            while std::fs::remove_dir(&dir).is_err() && dir.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn v1_name(c: Controller) -> &'static str {
    match c {
        Controller::Cpu => "cpu",
        Controller::Cpuacct => "cpuacct",
        Controller::Memory => "memory",
        Controller::Blkio => "blkio",
        Controller::Pids => "pids",
    }
}

/// This process's cgroup in the hierarchy at `src` holding controllers `mask`.
fn own_cgroup(src: &Source, mask: u8) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let want = Controller::ALL
        .iter()
        .enumerate()
        .find(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| v1_name(*c))?;
    text.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
        let hit = match src {
            Source::V2(_) => ctrls.is_empty(),
            Source::V1(_) => ctrls.split(',').any(|c| c == want),
        };
        hit.then(|| path.to_string())
    })
}

/// Makes `name` below this process's own cgroup in every hierarchy; `Err` says why not.
fn make_group(c: &CgroupCollector, name: &str) -> Result<Group, String> {
    let mut group = Group { dirs: Vec::new() };
    for (mount, mask) in c.layout().hierarchies() {
        let src = c
            .layout()
            .sources
            .iter()
            .flatten()
            .find(|s| s.dir() == mount);
        let src = src.ok_or("no source")?;
        let own = own_cgroup(src, mask).ok_or(format!("own cgroup in {}", mount.display()))?;
        let id = format!("{}/{name}", own.trim_end_matches('/'));
        let dir = mount.join(id.trim_start_matches('/'));
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        group.dirs.push((mount, id, mask));
    }
    Ok(group)
}

fn value(fams: &[Family], name: &str, id: &str) -> f64 {
    let fam = fams.iter().find(|f| f.name == name);
    let fam = fam.unwrap_or_else(|| panic!("no family {name}"));
    let s = fam
        .samples
        .iter()
        .find(|s| s.labels.iter().any(|(k, v)| k == "id" && v == id));
    s.unwrap_or_else(|| panic!("no {name}{{id={id}}}")).value
}

#[test]
fn real_cgroups_cpu_and_memory() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let c = match CgroupCollector::new(Config::host()) {
        Ok(c) => c,
        Err(e) => return eprintln!("SKIPPED real cgroups test: {e}"),
    };
    eprintln!("layout: {:?}", c.layout());
    let tag = format!("promlet-test-{}", std::process::id());
    let (burn_group, hold_group) = match (
        make_group(&c, &format!("{tag}-burn")),
        make_group(&c, &format!("{tag}-hold")),
    ) {
        (Ok(b), Ok(h)) => (b, h),
        (Err(e), _) | (_, Err(e)) => return eprintln!("SKIPPED real cgroups test: {e}"),
    };
    let mut burner = Kid::spawn("burn");
    let mut holder = Kid::spawn("hold");
    burn_group.add(burner.child.id());
    hold_group.add(holder.child.id());
    burner.go();
    holder.go();
    burner.wait_for("PROMLET_DONE");
    burner.wait_exit();
    holder.wait_for("PROMLET_READY");

    let mut fams = Vec::new();
    let stats = c.collect(&mut fams).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "collected {} families, skipped {}",
        fams.len(),
        stats.skipped
    );

    let cpu_id = burn_group
        .dir(Controller::Cpuacct)
        .unwrap_or_else(|| panic!("no cpuacct"));
    let cpu = value(&fams, "container_cpu_usage_seconds_total", cpu_id);
    let user = value(&fams, "container_cpu_user_seconds_total", cpu_id);
    eprintln!("burn {cpu_id}: usage {cpu:.3} s (user {user:.2} s), expected {BURN_SECONDS} s");
    assert!(
        (cpu - BURN_SECONDS).abs() <= BURN_SECONDS * CPU_TOLERANCE,
        "cpu usage {cpu} s not within ±{CPU_TOLERANCE} of {BURN_SECONDS} s"
    );

    let mem_id = hold_group
        .dir(Controller::Memory)
        .unwrap_or_else(|| panic!("no memory"));
    let want = HOLD_BYTES as f64;
    for name in [
        "container_memory_usage_bytes",
        "container_memory_working_set_bytes",
        "container_memory_rss",
    ] {
        let got = value(&fams, name, mem_id);
        eprintln!("hold {mem_id}: {name} {:.1} MiB", got / (1 << 20) as f64);
        assert!(
            got >= want && got <= want + MEM_SLACK,
            "{name} {got} not within [{want}, {want} + {MEM_SLACK}]"
        );
    }
    if let Some(pids_id) = hold_group.dir(Controller::Pids) {
        assert!(value(&fams, "container_threads", pids_id) >= 1.0);
    }
    // The kids go first: a cgroup with tasks cannot be removed.
    drop(holder);
    drop(burner);
    drop(hold_group);
    drop(burn_group);
}

/// Files kept open between collections (one `pread` each) must show fresh numbers: a cgroup's
/// usage after a burn, and a cgroup removed and made again under the same path read as the new
/// one (kernfs answers ENODEV on the old descriptor), never the old one's figures.
#[test]
fn kept_files_follow_changes_and_recreated_cgroups() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let c = match CgroupCollector::new(Config::host()) {
        Ok(c) => c.with_open_files(10_000),
        Err(e) => return eprintln!("SKIPPED kept files test: {e}"),
    };
    let name = format!("promlet-test-{}-kept", std::process::id());
    let group = match make_group(&c, &name) {
        Ok(g) => g,
        Err(e) => return eprintln!("SKIPPED kept files test: {e}"),
    };
    let id = group
        .dir(Controller::Cpuacct)
        .unwrap_or_else(|| panic!("no cpuacct"))
        .to_string();
    let usage = |c: &CgroupCollector| {
        let mut fams = Vec::new();
        c.collect(&mut fams).unwrap_or_else(|e| panic!("{e}"));
        value(&fams, "container_cpu_usage_seconds_total", &id)
    };
    assert!(usage(&c) < 0.05, "a new cgroup has used no CPU");
    assert!(
        c.open_files() > 0,
        "files are kept open between collections"
    );

    let mut burner = Kid::spawn("burn");
    group.add(burner.child.id());
    burner.go();
    burner.wait_for("PROMLET_DONE");
    burner.wait_exit();
    drop(burner);
    let burnt = usage(&c);
    assert!(
        (burnt - BURN_SECONDS).abs() <= BURN_SECONDS * CPU_TOLERANCE,
        "usage {burnt} s through kept files, expected {BURN_SECONDS} s"
    );

    drop(group);
    let again = make_group(&c, &name).unwrap_or_else(|e| panic!("re-make {name}: {e}"));
    let fresh = usage(&c);
    assert!(
        fresh < 0.05,
        "re-made cgroup reads {fresh} s: the old cgroup's figures"
    );
    drop(again);
}
