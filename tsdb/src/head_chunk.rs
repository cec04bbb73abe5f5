//! The open chunk of a head series, kept compact: a prefix already in the sealed format plus a
//! short streaming XOR tail.
//!
//! Appending goes to the XOR tail (cheap per sample). Every [`FOLD`] samples the tail is folded
//! into the sealed prefix (decode prefix + tail, re-encode), so most of an open chunk costs the
//! sealed format's ~0.5-1 byte per sample instead of XOR's 1-4, which is what keeps head memory
//! per series low. The extra encoding work is about two sealed encodes per sample.

use chunkenc::XorChunk;
use model::{Sample, Timestamp};

/// Samples appended to the XOR tail before it is folded into the sealed prefix.
const FOLD: usize = 48;

/// An open chunk: at most 65535 samples (`Options::chunk_max_samples` is checked against that)
/// with increasing timestamps.
#[derive(Debug, Default)]
pub(crate) struct HeadChunk {
    /// The first `prefix_len` samples as a sealed chunk (`chunkenc` format), if any.
    prefix: Option<Box<[u8]>>,
    prefix_len: u16,
    tail: XorChunk,
}

impl HeadChunk {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends a sample; `t` must be greater than the last timestamp and the chunk not full.
    pub(crate) fn append(&mut self, t: Timestamp, v: f64) {
        self.tail.append(t, v);
        if self.tail.len() >= FOLD {
            self.fold();
        }
    }

    fn fold(&mut self) {
        let mut samples = Vec::with_capacity(self.len());
        self.decode_into(&mut samples);
        let mut bytes = Vec::new();
        chunkenc::encode_sealed(&samples, &mut bytes);
        self.prefix = Some(bytes.into_boxed_slice());
        self.prefix_len = u16::try_from(samples.len()).unwrap_or(u16::MAX);
        self.tail = XorChunk::new();
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.prefix_len) + self.tail.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first timestamp (reads the prefix's header when there is one).
    pub(crate) fn first_t(&self) -> Option<Timestamp> {
        match &self.prefix {
            Some(p) => chunkenc::sealed_meta(p).ok().map(|m| m.mint),
            None => self.tail.first_t(),
        }
    }

    /// Appends every sample, in time order, to `out`.
    pub(crate) fn decode_into(&self, out: &mut Vec<Sample>) {
        if let Some(prefix) = &self.prefix {
            // The prefix was encoded by `fold` from valid samples; it always decodes.
            let decoded = chunkenc::decode_sealed(prefix, out);
            debug_assert!(decoded.is_ok(), "head chunk prefix: {decoded:?}");
        }
        self.tail.decode_into(out);
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.prefix.as_ref().map_or(0, |p| p.len()) + self.tail.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn gives_back_every_sample_bit_exact(
            deltas in proptest::collection::vec(1i64..100_000, 0..400),
            values in proptest::collection::vec(any::<f64>(), 400),
        ) {
            let mut c = HeadChunk::new();
            let mut want = Vec::new();
            let mut t = 1_767_225_600_000i64;
            for (d, v) in deltas.iter().zip(&values) {
                t += d;
                c.append(t, *v);
                want.push(Sample::new(t, *v));
            }
            let mut got = Vec::new();
            c.decode_into(&mut got);
            prop_assert_eq!(got.len(), want.len());
            prop_assert_eq!(c.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                prop_assert!(a.bit_eq(b), "{:?} != {:?}", a, b);
            }
            prop_assert_eq!(c.first_t(), want.first().map(|s| s.t));
        }
    }

    #[test]
    fn folding_makes_a_counter_smaller_than_xor() {
        let mut head = HeadChunk::new();
        let mut xor = XorChunk::new();
        for i in 0..240i64 {
            let (t, v) = (
                i * 15_000 + (i % 10 == 3) as i64 * 2,
                (i * 1489 + i % 7) as f64 / 100.0,
            );
            head.append(t, v);
            xor.append(t, v);
        }
        assert!(
            head.heap_bytes() * 2 < xor.heap_bytes(),
            "{} vs {}",
            head.heap_bytes(),
            xor.heap_bytes()
        );
    }
}
