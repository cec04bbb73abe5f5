//! The open chunk of a head series, kept compact: a prefix already in the sealed format plus a
//! short streaming XOR tail.
//!
//! Appending goes to the XOR tail (cheap per sample). Every [`FOLD`] samples the tail is folded
//! into the sealed prefix (decode prefix + tail, re-encode), so most of an open chunk costs the
//! sealed format's ~0.5-1 byte per sample instead of XOR's 1-4, which is what keeps head memory
//! per series low. The extra encoding work is about two sealed encodes per sample. A writer
//! holding a lock can leave the fold for after it released it ([`HeadChunk::append_unfolded`]).

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

/// The sealed encoding of the samples of `prefix` (a sealed chunk, or empty) followed by
/// those of `tail`; `scratch` is working space.
pub(crate) fn fold(prefix: &[u8], tail: &XorChunk, scratch: &mut Vec<Sample>) -> Box<[u8]> {
    scratch.clear();
    if !prefix.is_empty() {
        // The prefix was encoded by this process from valid samples; it always decodes.
        let decoded = chunkenc::decode_sealed(prefix, scratch);
        debug_assert!(decoded.is_ok(), "head chunk prefix: {decoded:?}");
    }
    tail.decode_into(scratch);
    let mut bytes = Vec::new();
    chunkenc::encode_sealed(scratch, &mut bytes);
    bytes.into_boxed_slice()
}

impl HeadChunk {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends a sample; `t` must be greater than the last timestamp and the chunk not full.
    pub(crate) fn append(&mut self, t: Timestamp, v: f64) {
        if self.append_unfolded(t, v) {
            self.fold();
        }
    }

    /// Appends a sample as [`HeadChunk::append`] does but leaves the fold to the caller, who
    /// can do the encoding without holding a lock: returns whether the tail is due to be
    /// folded ([`HeadChunk::fold_parts`], [`fold`], [`HeadChunk::install_fold`]).
    pub(crate) fn append_unfolded(&mut self, t: Timestamp, v: f64) -> bool {
        self.tail.append(t, v);
        self.tail.len() >= FOLD
    }

    fn fold(&mut self) {
        let mut bytes = Vec::new();
        let tail = self.fold_parts(&mut bytes);
        let (len, first_t) = (self.len(), self.first_t());
        let prefix = fold(&bytes, &tail, &mut Vec::new());
        self.install_fold(len, first_t, prefix);
    }

    /// Copies what a fold starts from: the prefix's bytes onto `prefix`, and the tail.
    pub(crate) fn fold_parts(&self, prefix: &mut Vec<u8>) -> XorChunk {
        if let Some(p) = &self.prefix {
            prefix.extend_from_slice(p);
        }
        self.tail.clone()
    }

    /// Makes `prefix`, the [`fold`] of this chunk's parts when it held `len` samples from
    /// `first_t` on, its content. Returns false, changing nothing, when the chunk is no longer
    /// what the parts were taken from (samples were appended, or it was sealed, since).
    pub(crate) fn install_fold(
        &mut self,
        len: usize,
        first_t: Option<Timestamp>,
        prefix: Box<[u8]>,
    ) -> bool {
        let Ok(prefix_len) = u16::try_from(len) else {
            return false;
        };
        if self.len() != len || self.first_t() != first_t {
            return false;
        }
        self.prefix = Some(prefix);
        self.prefix_len = prefix_len;
        self.tail = XorChunk::new();
        true
    }

    /// Empties the chunk and returns its samples in the sealed format with its first and
    /// last timestamps, `None` when it is empty. When nothing was appended since the last fold
    /// the folded prefix is that encoding already, and is handed over as it is.
    pub(crate) fn take_sealed(&mut self) -> Option<(Box<[u8]>, Timestamp, Timestamp)> {
        let mut chunk = std::mem::take(self);
        if chunk.tail.is_empty()
            && let Some(meta) = chunk
                .prefix
                .as_deref()
                .and_then(|p| chunkenc::sealed_meta(p).ok())
            && let Some(prefix) = chunk.prefix.take()
        {
            return Some((prefix, meta.mint, meta.maxt));
        }
        let mut samples = Vec::with_capacity(chunk.len());
        chunk.decode_into(&mut samples);
        let (first, last) = (samples.first()?.t, samples.last()?.t);
        let mut bytes = Vec::new();
        chunkenc::encode_sealed(&samples, &mut bytes);
        Some((bytes.into_boxed_slice(), first, last))
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
    fn taking_the_sealed_chunk_gives_every_sample_folded_or_not() {
        for n in [1usize, FOLD - 1, FOLD, FOLD + 1, 5 * FOLD] {
            let mut c = HeadChunk::new();
            let want: Vec<Sample> = (0..n as i64)
                .map(|i| Sample::new(1_000 + i * 15_000, (i * 7 % 5) as f64 * 0.1))
                .collect();
            for s in &want {
                c.append(s.t, s.v);
            }
            let (bytes, mint, maxt) = c.take_sealed().unwrap();
            assert!(c.is_empty());
            let mut got = Vec::new();
            chunkenc::decode_sealed(&bytes, &mut got).unwrap();
            assert_eq!(got.len(), n);
            assert!(got.iter().zip(&want).all(|(a, b)| a.bit_eq(b)), "n = {n}");
            assert_eq!((mint, maxt), (want[0].t, want[n - 1].t));
        }
        assert!(HeadChunk::new().take_sealed().is_none());
    }

    #[test]
    fn a_fold_done_apart_is_installed_only_on_the_chunk_it_was_taken_from() {
        let mut c = HeadChunk::new();
        let mut due = false;
        for i in 0..FOLD as i64 {
            due = c.append_unfolded(1_000 + i, i as f64);
        }
        assert!(due);
        let mut bytes = Vec::new();
        let xor = c.fold_parts(&mut bytes);
        let (len, first_t) = (c.len(), c.first_t());
        let prefix = fold(&bytes, &xor, &mut Vec::new());
        // A sample appended meanwhile: the fold is stale.
        let mut tail = Vec::new();
        xor.decode_into(&mut tail);
        let mut later = HeadChunk::new();
        for s in &tail {
            later.append_unfolded(s.t, s.v);
        }
        later.append_unfolded(5_000, 1.0);
        assert!(!later.install_fold(len, first_t, prefix.clone()));
        assert_eq!(later.len(), FOLD + 1);
        assert!(c.install_fold(len, first_t, prefix));
        assert!(c.tail.is_empty());
        let mut got = Vec::new();
        c.decode_into(&mut got);
        assert_eq!(got.len(), FOLD);
        assert!(got.iter().zip(&tail).all(|(a, b)| a.bit_eq(b)));
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
