//! Prometheus duration strings: `1y2w3d4h5m6s7ms`, units in that order, each at most once.

use std::fmt;
use std::str::FromStr;

/// A non-negative duration in milliseconds, written the Prometheus way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Duration(i64);

impl Duration {
    pub(crate) const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub(crate) const fn as_millis(self) -> i64 {
        self.0
    }
}

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

impl FromStr for Duration {
    type Err = String;

    /// Prometheus's syntax, read by [`model::parse_duration_ms`].
    fn from_str(s: &str) -> Result<Self, String> {
        model::parse_duration_ms(s).map(Self).ok_or_else(|| {
            format!(
                "invalid duration {s:?}: expected numbers with units largest first \
                 (y w d h m s ms), like 15d or 1h30m"
            )
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, ms) in UNITS {
            if rest >= ms {
                write!(f, "{}{unit}", rest / ms)?;
                rest %= ms;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        let ms = |s: &str| s.parse::<Duration>().map(Duration::as_millis);
        assert_eq!(ms("15d"), Ok(15 * 86_400_000));
        assert_eq!(ms("1h30m"), Ok(5_400_000));
        assert_eq!(ms("100ms"), Ok(100));
        assert_eq!(ms("0"), Ok(0));
        assert!(ms("").is_err());
        assert!(ms("5").is_err());
        assert!(ms("1m1h").unwrap_err().contains("largest first"));
        assert!(ms("3x").unwrap_err().contains("\"3x\""));
        assert_eq!(Duration::from_millis(5_400_000).to_string(), "1h30m");
    }
}
