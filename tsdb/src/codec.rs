//! Byte encodings of keys and small values: varints, label sets, chunk and postings keys.
//!
//! Integer keys are big-endian so that byte order is numeric order; timestamps have their sign
//! bit flipped first so that negative times sort before positive ones. See `FORMAT.md`.

use model::{Label, Labels, Timestamp};

/// A persistent series identifier, assigned once and never reused.
pub(crate) type SeriesId = u64;

/// Appends `v` as an LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded as a varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// A cursor over a byte slice that reports the offset of what it could not read.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Current offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads an LEB128 varint; `Err(offset)` when truncated or longer than 10 bytes.
    pub(crate) fn uvarint(&mut self) -> Result<u64, usize> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or(self.pos)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.pos)
    }

    pub(crate) fn varint(&mut self) -> Result<i64, usize> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], usize> {
        let end = self.pos.checked_add(n).ok_or(self.pos)?;
        let b = self.buf.get(self.pos..end).ok_or(self.pos)?;
        self.pos = end;
        Ok(b)
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64, usize> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads a varint-length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self) -> Result<&'a str, usize> {
        let at = self.pos;
        let n = usize::try_from(self.uvarint()?).map_err(|_| at)?;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| at)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes a label set: count, then (name, value) as length-prefixed strings.
pub(crate) fn encode_labels(labels: &Labels, out: &mut Vec<u8>) {
    put_uvarint(out, labels.len() as u64);
    for l in labels {
        put_str(out, &l.name);
        put_str(out, &l.value);
    }
}

/// Decodes [`encode_labels`]; `Err(offset)` on malformed input.
pub(crate) fn decode_labels(r: &mut Reader<'_>) -> Result<Labels, usize> {
    let at = r.pos();
    let n = r.uvarint()?;
    let mut v = Vec::with_capacity(n.min(64) as usize);
    for _ in 0..n {
        let name = r.str()?;
        let value = r.str()?;
        v.push(Label::new(name, value));
    }
    Labels::new(v).map_err(|_| at)
}

/// Sign-flipped big-endian timestamp: byte order equals time order.
pub(crate) fn ts_key(t: Timestamp) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

pub(crate) fn ts_from_key(b: [u8; 8]) -> Timestamp {
    (u64::from_be_bytes(b) ^ (1 << 63)) as i64
}

/// Key of a chunk in a partition keyspace: series id, then the chunk's first timestamp.
pub(crate) fn chunk_key(id: SeriesId, mint: Timestamp) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.to_be_bytes());
    k[8..].copy_from_slice(&ts_key(mint));
    k
}

/// Splits a chunk key; `None` if it is not 16 bytes.
pub(crate) fn parse_chunk_key(k: &[u8]) -> Option<(SeriesId, Timestamp)> {
    let id: [u8; 8] = k.get(..8)?.try_into().ok()?;
    let t: [u8; 8] = k.get(8..16)?.try_into().ok()?;
    (k.len() == 16).then(|| (u64::from_be_bytes(id), ts_from_key(t)))
}

/// Prefix of all postings entries of label `name` (and of its values in the values keyspace).
pub(crate) fn name_prefix(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 2);
    put_str(&mut k, name);
    k
}

/// Key of a (name, value) pair in the values keyspace; also the prefix of its postings.
pub(crate) fn pair_key(name: &str, value: &str) -> Vec<u8> {
    let mut k = name_prefix(name);
    put_str(&mut k, value);
    k
}

/// Reads the (name, value) of a values-keyspace key.
pub(crate) fn parse_pair_key(k: &[u8]) -> Option<(&str, &str)> {
    let mut r = Reader::new(k);
    let name = r.str().ok()?;
    let value = r.str().ok()?;
    r.is_empty().then_some((name, value))
}

/// Encodes sorted, distinct ids: count, then deltas (the first from 0), as varints.
pub(crate) fn encode_id_list(ids: &[SeriesId]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() + 2);
    put_uvarint(&mut out, ids.len() as u64);
    let mut prev = 0u64;
    for &id in ids {
        put_uvarint(&mut out, id.wrapping_sub(prev));
        prev = id;
    }
    out
}

/// Decodes [`encode_id_list`], appending to `out`; `Err(offset)` on malformed input.
pub(crate) fn decode_id_list(bytes: &[u8], out: &mut Vec<SeriesId>) -> Result<(), usize> {
    let mut r = Reader::new(bytes);
    let n = r.uvarint()?;
    if n > bytes.len() as u64 {
        return Err(0);
    }
    let mut prev = 0u64;
    for _ in 0..n {
        prev = prev.wrapping_add(r.uvarint()?);
        out.push(prev);
    }
    if r.is_empty() { Ok(()) } else { Err(r.pos()) }
}

/// The series id in the last 8 bytes of a key (`hashes` keys).
pub(crate) fn id_from_key_tail(k: &[u8]) -> Option<SeriesId> {
    let tail: [u8; 8] = k.get(k.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}

/// A 64-bit FNV-1a hash of the encoded label set, for the labels-to-id lookup.
pub(crate) fn labels_hash(encoded: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in encoded {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ts_key_order_is_time_order(a: i64, b: i64) {
            prop_assert_eq!(a.cmp(&b), ts_key(a).cmp(&ts_key(b)));
            prop_assert_eq!(ts_from_key(ts_key(a)), a);
        }

        #[test]
        fn chunk_key_order_is_tuple_order(s1: u64, t1: i64, s2: u64, t2: i64) {
            prop_assert_eq!((s1, t1).cmp(&(s2, t2)), chunk_key(s1, t1).cmp(&chunk_key(s2, t2)));
            prop_assert_eq!(parse_chunk_key(&chunk_key(s1, t1)), Some((s1, t1)));
        }

        #[test]
        fn varints_round_trip(u: u64, i: i64) {
            let mut b = Vec::new();
            put_uvarint(&mut b, u);
            put_varint(&mut b, i);
            let mut r = Reader::new(&b);
            prop_assert_eq!(r.uvarint(), Ok(u));
            prop_assert_eq!(r.varint(), Ok(i));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn labels_round_trip(pairs in proptest::collection::btree_map("[a-z_]{1,8}", ".{1,12}", 0..8)) {
            let pairs: Vec<(String, String)> = pairs.into_iter().collect();
            let labels = Labels::from_pairs(&pairs).unwrap();
            let mut b = Vec::new();
            encode_labels(&labels, &mut b);
            prop_assert_eq!(decode_labels(&mut Reader::new(&b)), Ok(labels));
        }

        #[test]
        fn label_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_labels(&mut Reader::new(&bytes));
        }
    }

    proptest! {
        #[test]
        fn id_lists_round_trip(mut ids in proptest::collection::vec(any::<u64>(), 0..50)) {
            ids.sort_unstable();
            ids.dedup();
            let mut out = Vec::new();
            prop_assert_eq!(decode_id_list(&encode_id_list(&ids), &mut out), Ok(()));
            prop_assert_eq!(out, ids);
        }

        #[test]
        fn id_list_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_id_list(&bytes, &mut Vec::new());
        }
    }

    #[test]
    fn pair_keys_parse_back() {
        let mut k = pair_key("job", "api");
        k.extend_from_slice(&42u64.to_be_bytes());
        assert_eq!(id_from_key_tail(&k), Some(42));
        assert_eq!(
            parse_pair_key(&pair_key("job", "api")),
            Some(("job", "api"))
        );
        // A name that is a prefix of another must not share its prefix.
        assert!(!pair_key("jobs", "x").starts_with(&name_prefix("job")));
    }
}
