//! Helpers the node readers share: reading a file with an error naming it, building families.

use std::io;
use std::path::{Path, PathBuf};

use crate::{CollectError, Family, Kind};

/// `EOPNOTSUPP` on Linux: what reading `/proc/pressure/*` returns when PSI is compiled in but
/// disabled (`psi=0`).
const EOPNOTSUPP: i32 = 95;

/// Reads `path` to a string; the error names the reader and the file.
pub(crate) fn read(reader: &'static str, path: &Path) -> Result<String, CollectError> {
    std::fs::read_to_string(path).map_err(|e| io_error(reader, path, &e))
}

/// Reads `path`, or `None` when it does not exist (or is not supported by the kernel).
pub(crate) fn read_optional(
    reader: &'static str,
    path: &Path,
) -> Result<Option<String>, CollectError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(io_error(reader, path, &e)),
    }
}

/// Whether an I/O error means "this optional file is not there".
pub(crate) fn is_absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(EOPNOTSUPP)
}

/// An error for `path`.
pub(crate) fn io_error(reader: &'static str, path: &Path, e: &io::Error) -> CollectError {
    CollectError {
        reader,
        message: format!("{}: {e}", path.display()),
    }
}

/// A parse error in `path`.
pub(crate) fn parse_error(reader: &'static str, path: &Path, what: &str) -> CollectError {
    CollectError {
        reader,
        message: format!("{}: {what}", path.display()),
    }
}

/// A counter family.
pub(crate) fn counter(name: &str, help: &str) -> Family {
    Family::new(name, help, Kind::Counter)
}

/// A gauge family.
pub(crate) fn gauge(name: &str, help: &str) -> Family {
    Family::new(name, help, Kind::Gauge)
}

/// A gauge family holding one unlabelled sample.
pub(crate) fn gauge_of(name: &str, help: &str, value: f64) -> Family {
    let mut f = gauge(name, help);
    f.push(&[], value);
    f
}

/// A counter family holding one unlabelled sample.
pub(crate) fn counter_of(name: &str, help: &str, value: f64) -> Family {
    let mut f = counter(name, help);
    f.push(&[], value);
    f
}

/// Appends the families of `fams` that have samples (node_exporter shows no empty family).
pub(crate) fn extend_non_empty(out: &mut Vec<Family>, fams: impl IntoIterator<Item = Family>) {
    out.extend(fams.into_iter().filter(|f| !f.samples.is_empty()));
}

/// Parses a decimal integer field, as Go's `strconv.ParseUint`.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    s.parse().ok()
}

/// A compiled device filter: node_exporter's `deviceFilter`: a name is ignored when it
/// matches the exclude pattern or does not match the include pattern.
#[derive(Debug, Clone)]
pub(crate) struct DeviceFilter {
    exclude: Option<regex::Regex>,
    include: Option<regex::Regex>,
}

impl DeviceFilter {
    /// Compiles `exclude`/`include`; an empty pattern means "not set".
    pub(crate) fn new(
        reader: &'static str,
        exclude: &str,
        include: &str,
    ) -> Result<Self, CollectError> {
        let compile = |p: &str| -> Result<Option<regex::Regex>, CollectError> {
            if p.is_empty() {
                return Ok(None);
            }
            regex::Regex::new(p).map(Some).map_err(|e| CollectError {
                reader,
                message: format!("bad device pattern {p:?}: {e}"),
            })
        };
        Ok(Self {
            exclude: compile(exclude)?,
            include: compile(include)?,
        })
    }

    /// Whether `name` is left out.
    pub(crate) fn ignored(&self, name: &str) -> bool {
        self.exclude.as_ref().is_some_and(|re| re.is_match(name))
            || self.include.as_ref().is_some_and(|re| !re.is_match(name))
    }
}

/// The `<prefix><digit>...` directories under `dir` (`cpu0`, `clocksource0`), sorted by name
/// as Go's `filepath.Glob` returns them; none when `dir` cannot be read.
pub(crate) fn numbered_dirs(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix(prefix))
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}
