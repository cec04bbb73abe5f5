//! Samples, timestamps and Prometheus's staleness marker.

/// Milliseconds since the Unix epoch, as Prometheus stores them.
pub type Timestamp = i64;

/// One float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When the value was observed, in ms since the epoch.
    pub t: Timestamp,
    /// The value. NaN with the bit pattern [`STALE_NAN_BITS`] is a staleness marker.
    pub v: f64,
}

impl Sample {
    /// Builds a sample.
    pub const fn new(t: Timestamp, v: f64) -> Self {
        Self { t, v }
    }

    /// Compares timestamps and the exact bit patterns of the values (NaN payloads included).
    pub fn bit_eq(&self, other: &Self) -> bool {
        self.t == other.t && self.v.to_bits() == other.v.to_bits()
    }
}

/// The bit pattern of Prometheus's staleness marker: a NaN that no arithmetic produces.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Returns the staleness-marker NaN.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (compared by bits: an ordinary NaN is not a marker).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}
