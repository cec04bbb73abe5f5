//! Prometheus remote write 1.0's protobuf messages (`prometheus.WriteRequest`), decoded and
//! encoded by hand: the schema is four small messages, and a hand-written decoder names the
//! byte where a malformed body goes wrong.
//!
//! ```text
//! WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//! TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
//!                repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//! Label        { string name = 1; string value = 2; }
//! Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in ms
//! ```
//! Unknown fields are skipped, as protobuf requires; metadata and exemplars are skipped;
//! native histograms are counted (promlet stores floats only).

/// One series of a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeSeries {
    /// (name, value) pairs, as sent.
    pub labels: Vec<(String, String)>,
    /// (timestamp ms, value) pairs.
    pub samples: Vec<(i64, f64)>,
    /// Native histogram samples sent for this series (not stored).
    pub histograms: usize,
}

/// A decoding failure: what, and at which byte of the decompressed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("decoding WriteRequest at byte {offset}: {what}")]
pub struct DecodeError {
    /// The byte offset in the decompressed body.
    pub offset: usize,
    /// What was wrong.
    pub what: String,
}

/// A protobuf field's value.
enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

/// A cursor over one message, knowing its offset in the whole body.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    fn err(&self, what: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.base + self.pos,
            what: what.into(),
        }
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| self.err(format!("field of {n} bytes runs past the end")))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next (field number, value, offset of the value), or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>, usize)>, DecodeError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        if number == 0 {
            return Err(self.err("field number 0"));
        }
        let at = self.base + self.pos;
        let value = match wire {
            0 => Value::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Fixed64(u64::from_le_bytes(a))
            }
            2 => {
                let n =
                    usize::try_from(self.varint()?).map_err(|_| self.err("length too large"))?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed32
            }
            w => return Err(self.err(format!("unsupported wire type {w}"))),
        };
        Ok(Some((number, value, at)))
    }
}

/// Decodes a (decompressed) `WriteRequest`.
///
/// # Errors
/// Malformed protobuf, a label that is not UTF-8, or a field of the wrong wire type, naming
/// the byte.
pub fn decode_write_request(body: &[u8]) -> Result<Vec<TimeSeries>, DecodeError> {
    let mut r = Reader::new(body, 0);
    let mut out = Vec::new();
    while let Some((number, value, at)) = r.field()? {
        if number == 1 {
            let Value::Bytes(b) = value else {
                return Err(wire_error(at, "timeseries"));
            };
            out.push(decode_series(b, at)?);
        }
    }
    Ok(out)
}

/// A series as received, its labels still encoded: what the receiver needs to recognise a
/// series it has seen before without decoding its label strings again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawSeries<'a> {
    /// The series' `Label` messages, each with the offset of its bytes in the body.
    pub labels: Vec<(&'a [u8], usize)>,
    /// (timestamp ms, value) pairs.
    pub samples: Vec<(i64, f64)>,
    /// Native histogram samples sent for this series (not stored).
    pub histograms: usize,
}

impl RawSeries<'_> {
    /// The encoded labels as one key: each `Label` message prefixed by its length.
    pub fn key(&self) -> Vec<u8> {
        let len: usize = self.labels.iter().map(|(b, _)| b.len() + 4).sum();
        let mut key = Vec::with_capacity(len);
        for (b, _) in &self.labels {
            key.extend_from_slice(&(b.len() as u32).to_le_bytes());
            key.extend_from_slice(b);
        }
        key
    }

    /// The decoded (name, value) pairs.
    ///
    /// # Errors
    /// A malformed `Label` message, naming its byte.
    pub fn decode_labels(&self) -> Result<Vec<(String, String)>, DecodeError> {
        self.labels
            .iter()
            .map(|(b, at)| decode_label(b, *at))
            .collect()
    }
}

/// Decodes a (decompressed) `WriteRequest`, leaving the labels encoded.
///
/// # Errors
/// As [`decode_write_request`], except that label contents are checked only when
/// [`RawSeries::decode_labels`] reads them.
pub fn decode_write_request_raw(body: &[u8]) -> Result<Vec<RawSeries<'_>>, DecodeError> {
    let mut r = Reader::new(body, 0);
    let mut out = Vec::new();
    while let Some((number, value, at)) = r.field()? {
        if number != 1 {
            continue;
        }
        let Value::Bytes(b) = value else {
            return Err(wire_error(at, "timeseries"));
        };
        let mut series = Reader::new(b, at);
        let mut raw = RawSeries::default();
        while let Some((number, value, at)) = series.field()? {
            match (number, value) {
                (1, Value::Bytes(l)) => raw.labels.push((l, at)),
                (2, Value::Bytes(b)) => raw.samples.push(decode_sample(b, at)?),
                (4, Value::Bytes(_)) => raw.histograms += 1,
                (1, _) => return Err(wire_error(at, "label")),
                (2, _) => return Err(wire_error(at, "sample")),
                _ => {}
            }
        }
        out.push(raw);
    }
    Ok(out)
}

fn wire_error(offset: usize, field: &str) -> DecodeError {
    DecodeError {
        offset,
        what: format!("{field} has the wrong wire type"),
    }
}

fn decode_series(buf: &[u8], base: usize) -> Result<TimeSeries, DecodeError> {
    let mut r = Reader::new(buf, base);
    let mut ts = TimeSeries::default();
    while let Some((number, value, at)) = r.field()? {
        match (number, value) {
            (1, Value::Bytes(b)) => ts.labels.push(decode_label(b, at)?),
            (2, Value::Bytes(b)) => ts.samples.push(decode_sample(b, at)?),
            (4, Value::Bytes(_)) => ts.histograms += 1,
            (1, _) => return Err(wire_error(at, "label")),
            (2, _) => return Err(wire_error(at, "sample")),
            _ => {}
        }
    }
    Ok(ts)
}

fn decode_label(buf: &[u8], base: usize) -> Result<(String, String), DecodeError> {
    let mut r = Reader::new(buf, base);
    let (mut name, mut value) = (String::new(), String::new());
    while let Some((number, v, at)) = r.field()? {
        let text = |b: &[u8]| {
            String::from_utf8(b.to_vec()).map_err(|_| DecodeError {
                offset: at,
                what: "label text is not UTF-8".into(),
            })
        };
        match (number, v) {
            (1, Value::Bytes(b)) => name = text(b)?,
            (2, Value::Bytes(b)) => value = text(b)?,
            (1 | 2, _) => return Err(wire_error(at, "label text")),
            _ => {}
        }
    }
    Ok((name, value))
}

fn decode_sample(buf: &[u8], base: usize) -> Result<(i64, f64), DecodeError> {
    let mut r = Reader::new(buf, base);
    let (mut t, mut v) = (0i64, 0f64);
    while let Some((number, value, at)) = r.field()? {
        match (number, value) {
            (1, Value::Fixed64(bits)) => v = f64::from_bits(bits),
            (2, Value::Varint(x)) => t = x as i64,
            (1, _) => return Err(wire_error(at, "sample value")),
            (2, _) => return Err(wire_error(at, "sample timestamp")),
            _ => {}
        }
    }
    Ok((t, v))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    put_varint(out, number << 3 | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Encodes `series` as a `WriteRequest` (uncompressed).
pub fn encode_write_request(series: &[TimeSeries]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ts_buf = Vec::new();
    let mut field = Vec::new();
    for ts in series {
        ts_buf.clear();
        for (name, value) in &ts.labels {
            field.clear();
            put_bytes(&mut field, 1, name.as_bytes());
            put_bytes(&mut field, 2, value.as_bytes());
            put_bytes(&mut ts_buf, 1, &field);
        }
        for (t, v) in &ts.samples {
            field.clear();
            put_varint(&mut field, 1 << 3 | 1);
            field.extend_from_slice(&v.to_bits().to_le_bytes());
            put_varint(&mut field, 2 << 3);
            put_varint(&mut field, *t as u64);
            put_bytes(&mut ts_buf, 2, &field);
        }
        put_bytes(&mut out, 1, &ts_buf);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Vec<TimeSeries> {
        vec![
            TimeSeries {
                labels: vec![("__name__".into(), "up".into()), ("job".into(), "a".into())],
                samples: vec![(1_700_000_000_000, 1.0), (1_700_000_015_000, 0.0)],
                histograms: 0,
            },
            TimeSeries {
                labels: vec![("__name__".into(), "neg".into())],
                samples: vec![(-5, f64::NAN)],
                histograms: 0,
            },
        ]
    }

    #[test]
    fn round_trips() {
        let got = decode_write_request(&encode_write_request(&series())).unwrap();
        assert_eq!(got[0], series()[0]);
        assert_eq!(got[1].labels, series()[1].labels);
        assert_eq!(got[1].samples[0].0, -5);
        assert!(got[1].samples[0].1.is_nan());
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let mut body = encode_write_request(&series());
        // metadata (field 3) and an unknown varint field 9.
        put_bytes(&mut body, 3, b"\x08\x01");
        put_varint(&mut body, 9 << 3);
        put_varint(&mut body, 300);
        assert_eq!(decode_write_request(&body).unwrap().len(), 2);
    }

    #[test]
    fn truncations_are_errors_with_offsets_never_panics() {
        let body = encode_write_request(&series());
        for cut in 1..body.len() {
            match decode_write_request(&body[..cut]) {
                Ok(_) => {}
                Err(e) => assert!(e.offset <= cut, "{e} at cut {cut}"),
            }
        }
        let e = decode_write_request(&body[..body.len() - 1]).unwrap_err();
        assert!(
            e.to_string().starts_with("decoding WriteRequest at byte "),
            "{e}"
        );
        assert!(
            decode_write_request(&[0x0b]).is_err(),
            "wire type 3 (groups)"
        );
        let e = decode_write_request(&[0x08, 0x01]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "decoding WriteRequest at byte 1: timeseries has the wrong wire type"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        // A fixed linear congruential sequence: deterministic "random" bodies, and mutations
        // of a valid one.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) as u8
        };
        let valid = encode_write_request(&series());
        for round in 0..5000 {
            let body: Vec<u8> = if round % 2 == 0 {
                (0..(next() as usize % 64)).map(|_| next()).collect()
            } else {
                let mut b = valid.clone();
                let at = next() as usize % b.len();
                b[at] = next();
                b
            };
            let _ = decode_write_request(&body);
        }
    }

    #[test]
    fn raw_decoding_agrees_with_full_decoding() {
        let body = encode_write_request(&series());
        let full = decode_write_request(&body).unwrap();
        let raw = decode_write_request_raw(&body).unwrap();
        assert_eq!(raw.len(), full.len());
        for (r, f) in raw.iter().zip(&full) {
            assert_eq!(r.decode_labels().unwrap(), f.labels);
            assert_eq!(r.samples.len(), f.samples.len());
        }
        assert_ne!(raw[0].key(), raw[1].key());
        let again = decode_write_request_raw(&body).unwrap();
        assert_eq!(raw[0].key(), again[0].key());
    }
}
