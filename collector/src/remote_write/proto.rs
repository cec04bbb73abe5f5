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

    #[cold]
    fn err(&self, what: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.base + self.pos,
            what: what.into(),
        }
    }

    #[inline]
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

    #[inline]
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
    #[inline]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawSeries<'a> {
    /// The series' bytes from the first `Label` field to the end of the last one, field keys
    /// and lengths included (and whatever other fields lie between). Equal keys decode to
    /// equal labels: a key identifies the series for as long as its sender encodes it the same
    /// way. Empty when the series has no labels.
    pub key: &'a [u8],
    /// Offset of `key` in the body.
    key_at: usize,
    /// This series' samples: `RawRequest::samples[samples_from..samples_to]`.
    samples_from: usize,
    samples_to: usize,
    /// Native histogram samples sent for this series (not stored).
    pub histograms: usize,
}

impl RawSeries<'_> {
    /// The decoded (name, value) pairs.
    ///
    /// # Errors
    /// A malformed `Label` message, naming its byte.
    pub fn decode_labels(&self) -> Result<Vec<(String, String)>, DecodeError> {
        let mut r = Reader::new(self.key, self.key_at);
        let mut out = Vec::new();
        while let Some((number, value, at)) = r.field()? {
            match (number, value) {
                (1, Value::Bytes(b)) => out.push(decode_label(b, at)?),
                (1, _) => return Err(wire_error(at, "label")),
                _ => {}
            }
        }
        Ok(out)
    }
}

/// A `WriteRequest` decoded without copying its labels: one allocation for the series and one
/// for all their samples, whatever the number of series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRequest<'a> {
    /// The series, in request order.
    pub series: Vec<RawSeries<'a>>,
    /// Every series' samples, (timestamp ms, value), back to back.
    samples: Vec<(i64, f64)>,
}

impl RawRequest<'_> {
    /// The (timestamp ms, value) pairs of `series`, one of this request's.
    pub fn samples(&self, series: &RawSeries<'_>) -> &[(i64, f64)] {
        self.samples
            .get(series.samples_from..series.samples_to)
            .unwrap_or(&[])
    }

    /// Empties the request, keeping its buffers (the standard library collects an emptied
    /// vector into one of a same-sized type in place) for decoding another body.
    pub fn recycle<'b>(self) -> RawRequest<'b> {
        let mut series = self.series;
        series.clear();
        let mut samples = self.samples;
        samples.clear();
        RawRequest {
            series: series.into_iter().map(|_| RawSeries::default()).collect(),
            samples,
        }
    }
}

/// Decodes a (decompressed) `WriteRequest`, leaving the labels encoded.
///
/// # Errors
/// As [`decode_write_request`], except that label contents are checked only when
/// [`RawSeries::decode_labels`] reads them.
pub fn decode_write_request_raw(body: &[u8]) -> Result<RawRequest<'_>, DecodeError> {
    // A series of the usual size takes a few hundred bytes, a sample at least a dozen: enough
    // room for most requests without growing, never much more than the body.
    let mut req = RawRequest {
        series: Vec::with_capacity(body.len() / 128),
        samples: Vec::with_capacity(body.len() / 24),
    };
    decode_write_request_raw_into(body, &mut req)?;
    Ok(req)
}

/// [`decode_write_request_raw`] into `req`, emptied first; on an error `req` holds part of
/// the request.
///
/// # Errors
/// As [`decode_write_request_raw`].
pub fn decode_write_request_raw_into<'a>(
    body: &'a [u8],
    req: &mut RawRequest<'a>,
) -> Result<(), DecodeError> {
    req.series.clear();
    req.samples.clear();
    let mut r = Reader::new(body, 0);
    while let Some((number, value, at)) = r.field()? {
        if number != 1 {
            continue;
        }
        let Value::Bytes(b) = value else {
            return Err(wire_error(at, "timeseries"));
        };
        let raw = decode_raw_series(b, at, &mut req.samples)?;
        req.series.push(raw);
    }
    Ok(())
}

/// Decodes one `TimeSeries` message found at `base`, appending its samples to `samples`.
fn decode_raw_series<'a>(
    buf: &'a [u8],
    base: usize,
    samples: &mut Vec<(i64, f64)>,
) -> Result<RawSeries<'a>, DecodeError> {
    let mut r = Reader::new(buf, base);
    let samples_from = samples.len();
    let mut histograms = 0;
    // The span of the label fields, as offsets in `buf`.
    let mut labels: Option<(usize, usize)> = None;
    loop {
        let field_at = r.pos;
        let Some((number, value, at)) = r.field()? else {
            break;
        };
        match (number, value) {
            (1, Value::Bytes(_)) => {
                let from = labels.map_or(field_at, |(from, _)| from);
                labels = Some((from, r.pos));
            }
            (2, Value::Bytes(b)) => samples.push(decode_sample(b, at)?),
            (4, Value::Bytes(_)) => histograms += 1,
            (1, _) => return Err(wire_error(at, "label")),
            (2, _) => return Err(wire_error(at, "sample")),
            _ => {}
        }
    }
    let (from, to) = labels.unwrap_or((0, 0));
    Ok(RawSeries {
        key: buf.get(from..to).unwrap_or(&[]),
        key_at: base + from,
        samples_from,
        samples_to: samples.len(),
        histograms,
    })
}

#[cold]
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
    // As every sender encodes it: the value (field 1, fixed64), then the timestamp (field 2,
    // varint), nothing else.
    if let Some((&0x09, rest)) = buf.split_first()
        && let Some((value, [0x10, t @ ..])) = rest.split_first_chunk::<8>()
        && let Some(t) = exact_varint(t)
    {
        return Ok((t as i64, f64::from_bits(u64::from_le_bytes(*value))));
    }
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

/// The varint that takes exactly all of `b` (at most 10 bytes), if it is one.
fn exact_varint(b: &[u8]) -> Option<u64> {
    let (last, init) = b.split_last()?;
    if *last >= 0x80 || init.len() >= 10 || init.iter().any(|x| *x < 0x80) {
        return None;
    }
    let v = b
        .iter()
        .enumerate()
        .fold(0u64, |v, (i, x)| v | u64::from(x & 0x7f) << (7 * i));
    Some(v)
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
        let mut body = encode_write_request(&series());
        // A sample encoded the other way round (timestamp first) takes the slow path.
        let mut ts = Vec::new();
        put_bytes(&mut ts, 1, b"\x0a\x08__name__\x12\x01x");
        put_bytes(&mut ts, 2, b"\x10\x07\x09\0\0\0\0\0\0\xf0\x3f");
        put_bytes(&mut body, 1, &ts);
        let full = decode_write_request(&body).unwrap();
        let raw = decode_write_request_raw(&body).unwrap();
        assert_eq!(raw.series.len(), full.len());
        for (r, f) in raw.series.iter().zip(&full) {
            assert_eq!(r.decode_labels().unwrap(), f.labels);
            let got: Vec<_> = raw
                .samples(r)
                .iter()
                .map(|(t, v)| (*t, v.to_bits()))
                .collect();
            let want: Vec<_> = f.samples.iter().map(|(t, v)| (*t, v.to_bits())).collect();
            assert_eq!(got, want);
        }
        assert_eq!(raw.samples(&raw.series[2]), [(7, 1.0)]);
        assert_ne!(raw.series[0].key, raw.series[1].key);
        let again = decode_write_request_raw(&body).unwrap();
        assert_eq!(raw.series[0].key, again.series[0].key);
    }

    #[test]
    fn a_recycled_request_decodes_another_body_in_the_same_buffers() {
        let first = encode_write_request(&series());
        let req = decode_write_request_raw(&first).unwrap();
        let capacity = (req.series.capacity(), req.samples.capacity());
        let mut req = req.recycle();
        assert!(req.series.is_empty() && req.samples(&RawSeries::default()).is_empty());
        let second = encode_write_request(&series()[1..]);
        decode_write_request_raw_into(&second, &mut req).unwrap();
        assert_eq!(req.series.len(), 1);
        assert_eq!(req.samples(&req.series[0]).len(), 1);
        assert_eq!((req.series.capacity(), req.samples.capacity()), capacity);
    }

    #[test]
    fn raw_decoding_refuses_what_full_decoding_refuses() {
        let valid = encode_write_request(&series());
        for cut in 1..valid.len() {
            let body = &valid[..cut];
            let raw = decode_write_request_raw(body).and_then(|r| {
                r.series
                    .iter()
                    .try_for_each(|s| s.decode_labels().map(drop))
            });
            assert_eq!(
                raw.is_ok(),
                decode_write_request(body).is_ok(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn exact_varints() {
        assert_eq!(exact_varint(&[0x07]), Some(7));
        assert_eq!(exact_varint(&[0xac, 0x02]), Some(300));
        assert_eq!(exact_varint(&[]), None);
        assert_eq!(exact_varint(&[0x80]), None, "unterminated");
        assert_eq!(exact_varint(&[0x01, 0x01]), None, "two varints");
        let mut long = vec![0xff; 9];
        long.push(0x01);
        assert_eq!(exact_varint(&long), Some(u64::MAX));
        long.insert(0, 0xff);
        assert_eq!(exact_varint(&long), None, "11 bytes");
    }
}
