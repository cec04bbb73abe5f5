//! Prometheus remote write 1.0, the receiving side: `POST /api/v1/write` with a
//! snappy-compressed protobuf `WriteRequest` ([`collector::remote_write::proto`]). Success is 204, as Prometheus
//! answers.
//!
//! - A body that does not decompress or decode, or a series with invalid labels, gets a 400
//!   naming what and where, and nothing of the request is stored.
//! - A storage that cannot take the request now (a full disk, an I/O failure) gets a 503, so
//!   that senders retry it later; nothing of it is stored.
//! - A sample the storage already has a newer one for (out of order: typically a retry whose
//!   first answer was lost), or outside retention, is skipped and counted, and the rest of
//!   the request is stored. Prometheus instead refuses the whole request with a 400, which
//!   its sender then drops: one stale sample would lose a batch of good ones.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use collector::remote_write::proto;
use model::{Labels, SeriesRef};

use crate::AppState;

/// The largest compressed body accepted, bytes.
pub const MAX_BODY_BYTES: usize = 64 << 20;
/// The largest decompressed body accepted, bytes.
const MAX_DECODED_BYTES: usize = 256 << 20;

/// What was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Series in the request.
    pub series: usize,
    /// Float samples stored (or already present).
    pub samples: usize,
    /// Native histogram samples skipped.
    pub histograms: usize,
    /// Samples skipped: out of order (older than the series' newest) or outside retention.
    pub skipped: usize,
}

/// Why a request was not stored, and whether a sender should retry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError {
    /// 400 for a request that will never be stored (malformed, invalid, conflicting), 503
    /// when the storage cannot take it now (full disk, I/O): senders retry those.
    pub status: u16,
    /// What and where.
    pub message: String,
}

impl From<String> for WriteError {
    fn from(message: String) -> Self {
        WriteError {
            status: 400,
            message,
        }
    }
}

/// The answer to a storage failure: 503 (retry later) unless the request itself is at fault.
fn storage_error(e: &model::Error, context: String) -> WriteError {
    let status = match e {
        model::Error::StorageFull { .. } | model::Error::Storage(_) => 503,
        _ => 400,
    };
    WriteError {
        status,
        message: format!("{context}{e}"),
    }
}

/// What the receiver's requests share.
///
/// - Series seen in earlier requests, by their encoded labels ([`proto::RawSeries::key`]):
///   their [`Labels`] and storage reference, so that a series sent again (every request of a
///   steady sender) is neither decoded nor looked up again. Bounded: it starts over past
///   [`SeriesCache::MAX_ENTRIES`]. Requests read it concurrently, holding the read lock while
///   they append; only one that brings series new to it takes the write lock, after its
///   commit.
/// - A turn for appending: requests decompress and decode concurrently, then append and
///   commit one at a time. Their batches go into one storage, whose lock every append takes:
///   taking turns per request keeps that lock with one thread instead of passing it between
///   cores for every sample, which costs more CPU than the parallelism gains.
#[derive(Debug, Default)]
pub struct SeriesCache {
    map: std::sync::RwLock<CacheMap>,
    turn: std::sync::Mutex<()>,
}

type CacheMap =
    std::collections::HashMap<Box<[u8]>, (Labels, SeriesRef), foldhash::fast::RandomState>;

/// Series a request taught the cache: encoded labels, labels and reference.
type Learned<'r> = Vec<(&'r [u8], (Labels, SeriesRef))>;

impl SeriesCache {
    /// Entries kept at most.
    pub const MAX_ENTRIES: usize = 1 << 20;

    fn remember(&self, entries: Learned<'_>) {
        if entries.is_empty() {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() + entries.len() > Self::MAX_ENTRIES {
            map.clear();
        }
        map.extend(entries.into_iter().map(|(k, v)| (Box::from(k), v)));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }
}

/// A request's series: its labels, borrowed from the cache or decoded.
enum Known<'m> {
    Cached(&'m Labels, SeriesRef),
    New(Labels),
}

impl Known<'_> {
    fn labels(&self) -> &Labels {
        match self {
            Known::Cached(labels, _) => labels,
            Known::New(labels) => labels,
        }
    }

    fn series_ref(&self) -> Option<SeriesRef> {
        match self {
            Known::Cached(_, r) => Some(*r),
            Known::New(_) => None,
        }
    }

    fn into_labels(self) -> Labels {
        match self {
            Known::Cached(labels, _) => labels.clone(),
            Known::New(labels) => labels,
        }
    }
}

/// Buffers kept per thread between requests, so that a steady sender's requests are
/// decompressed and decoded without allocating.
#[derive(Default)]
struct Spare {
    body: Vec<u8>,
    request: proto::RawRequest<'static>,
}

/// Decompressed bodies larger than this do not keep their buffer for the next request.
const MAX_KEPT_BYTES: usize = 4 << 20;

thread_local! {
    static SPARE: std::cell::Cell<Option<Spare>> = const { std::cell::Cell::new(None) };
}

/// Decompresses a body into `out` (grown as needed), refusing sizes a snappy body cannot
/// honestly declare; returns the decompressed length.
fn decompress(body: &[u8], out: &mut Vec<u8>) -> Result<usize, WriteError> {
    let len = snap::raw::decompress_len(body).map_err(|e| format!("snappy: {e}"))?;
    if len > MAX_DECODED_BYTES {
        return Err(format!(
            "snappy: decompressed body of {len} bytes exceeds {MAX_DECODED_BYTES}"
        )
        .into());
    }
    // Snappy expands at most about 22 times (a 3-byte copy of 64 bytes); a header declaring
    // more is a lie that would make the decoder allocate it all before finding out.
    if len > body.len().saturating_mul(32).saturating_add(1024) {
        return Err(format!(
            "snappy: the body declares {len} decompressed bytes from {} compressed",
            body.len()
        )
        .into());
    }
    if out.len() < len {
        out.resize(len, 0);
    }
    let out = out.get_mut(..len).unwrap_or_default();
    Ok(snap::raw::Decoder::new()
        .decompress(body, out)
        .map_err(|e| format!("snappy: {e}"))?)
}

/// Decompresses, decodes and stores one request (with a cache for this call only).
///
/// # Errors
/// A [`WriteError`] naming the part of the request, or the storage's failure.
pub fn store(appendable: &dyn model::Appendable, body: &[u8]) -> Result<Stored, WriteError> {
    store_cached(appendable, &SeriesCache::default(), body)
}

/// [`store`], recognising series of earlier requests through `cache`.
///
/// # Errors
/// As [`store`].
pub fn store_cached(
    appendable: &dyn model::Appendable,
    cache: &SeriesCache,
    body: &[u8],
) -> Result<Stored, WriteError> {
    let mut spare = SPARE.with(std::cell::Cell::take).unwrap_or_default();
    let result = store_with(appendable, cache, body, &mut spare);
    if spare.body.capacity() <= MAX_KEPT_BYTES {
        SPARE.with(|c| c.set(Some(spare)));
    }
    result
}

fn store_with(
    appendable: &dyn model::Appendable,
    cache: &SeriesCache,
    body: &[u8],
    spare: &mut Spare,
) -> Result<Stored, WriteError> {
    let len = decompress(body, &mut spare.body)?;
    let raw = spare.body.get(..len).unwrap_or_default();
    let mut request = std::mem::take(&mut spare.request).recycle();
    let result = proto::decode_write_request_raw_into(raw, &mut request)
        .map_err(|e| WriteError::from(e.to_string()))
        .and_then(|()| store_request(appendable, cache, &request));
    spare.request = request.recycle();
    result
}

/// Stores a decoded request in one batch; its new series go into `cache` once committed.
fn store_request(
    appendable: &dyn model::Appendable,
    cache: &SeriesCache,
    request: &proto::RawRequest<'_>,
) -> Result<Stored, WriteError> {
    let (stored, learned) = {
        let map = cache.map.read().unwrap_or_else(|e| e.into_inner());
        let known = resolve(&map, &request.series)?;
        let _turn = cache.turn.lock().unwrap_or_else(|e| e.into_inner());
        let mut app = appendable.appender();
        match append_all(&mut *app, request, known) {
            Ok(done) => {
                app.commit().map_err(|e| storage_error(&e, String::new()))?;
                done
            }
            Err(e) => {
                app.rollback();
                return Err(e);
            }
        }
    };
    cache.remember(learned);
    Ok(stored)
}

/// Appends every sample of `request` to `app`; returns what was stored and the series
/// whose reference the cache does not know yet.
fn append_all<'r>(
    app: &mut dyn model::Appender,
    request: &proto::RawRequest<'r>,
    known: Vec<Known<'_>>,
) -> Result<(Stored, Learned<'r>), WriteError> {
    let mut stored = Stored {
        series: request.series.len(),
        samples: 0,
        histograms: 0,
        skipped: 0,
    };
    let mut learned = Vec::new();
    for (i, (ts, known)) in request.series.iter().zip(known).enumerate() {
        let mut series_ref = known.series_ref();
        for &(t, v) in request.samples(ts) {
            match app.append(series_ref, known.labels(), t, v) {
                Ok(r) => {
                    series_ref = Some(r);
                    stored.samples += 1;
                }
                Err(model::Error::OutOfOrderSample | model::Error::OutOfBounds) => {
                    stored.skipped += 1;
                }
                Err(e) => {
                    let labels = known.labels();
                    return Err(storage_error(
                        &e,
                        format!("timeseries[{i}] {labels} sample at {t}: "),
                    ));
                }
            }
        }
        stored.histograms += ts.histograms;
        // New, or the cached reference went stale (the series left the head and came back
        // under another id): remember the reference the storage answered with.
        if let Some(r) = series_ref.filter(|r| Some(*r) != known.series_ref()) {
            learned.push((ts.key, (known.into_labels(), r)));
        }
    }
    Ok((stored, learned))
}

/// The labels of every series, borrowed from `cache` with the storage reference for those
/// it knows; the labels of the others are decoded and checked.
fn resolve<'m>(
    cache: &'m CacheMap,
    series: &[proto::RawSeries<'_>],
) -> Result<Vec<Known<'m>>, WriteError> {
    let mut known = Vec::with_capacity(series.len());
    for (i, ts) in series.iter().enumerate() {
        let entry = match cache.get(ts.key) {
            Some((labels, r)) => Known::Cached(labels, *r),
            None => {
                let pairs = ts
                    .decode_labels()
                    .map_err(|e| format!("timeseries[{i}]: {e}"))?;
                Known::New(labels_of(&pairs).map_err(|e| format!("timeseries[{i}]: {e}"))?)
            }
        };
        known.push(entry);
    }
    Ok(known)
}

fn labels_of(labels: &[(String, String)]) -> Result<Labels, String> {
    let pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let labels = Labels::from_pairs(&pairs).map_err(|e| e.to_string())?;
    if labels.metric_name().is_none_or(str::is_empty) {
        return Err(format!("{labels} has no metric name"));
    }
    Ok(labels)
}

/// `POST /api/v1/write`.
pub async fn write(State(state): State<AppState>, body: Bytes) -> Response {
    let Some(appendable) = state.appendable.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "remote write receiver needs to be enabled\n",
        )
            .into_response();
    };
    let cache = state.series_cache.clone();
    let result =
        tokio::task::spawn_blocking(move || store_cached(&*appendable, &cache, &body)).await;
    match result {
        Ok(Ok(stored)) => {
            if stored.histograms > 0 || stored.skipped > 0 {
                tracing::debug!(
                    histograms = stored.histograms,
                    out_of_order_or_bounds = stored.skipped,
                    "remote write: samples skipped"
                );
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Err(e)) => {
            tracing::debug!(status = e.status, reason = %e.message, "remote write refused");
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, format!("{}\n", e.message)).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("remote write task failed: {e}\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::{TimeSeries, encode_write_request};

    fn body(series: &[TimeSeries]) -> Vec<u8> {
        snap::raw::Encoder::new()
            .compress_vec(&encode_write_request(series))
            .unwrap_or_default()
    }

    fn ts(name: &str, t: i64) -> TimeSeries {
        TimeSeries {
            labels: vec![("__name__".into(), name.into()), ("k".into(), "v".into())],
            samples: vec![(t, 1.0)],
            histograms: 0,
        }
    }

    #[test]
    fn series_seen_before_come_from_the_cache_and_still_store() {
        let db = model::MemStorage::new();
        let cache = SeriesCache::default();
        let first = store_cached(&db, &cache, &body(&[ts("a", 1), ts("b", 1)])).unwrap();
        assert_eq!((first.series, first.samples), (2, 2));
        assert_eq!(cache.len(), 2);
        let second = store_cached(&db, &cache, &body(&[ts("a", 2), ts("c", 2)])).unwrap();
        assert_eq!(second.samples, 2);
        assert_eq!(cache.len(), 3);
        // Every sample is in storage, under the right series.
        let q = model::Queryable::querier(&db, 0, 10).unwrap();
        let m = [model::Matcher::new(model::MatchOp::Equal, "__name__", "a").unwrap()];
        let got: Vec<_> = q
            .select(&model::SelectHints::default(), &m)
            .unwrap()
            .map(|s| s.unwrap().samples.len())
            .collect();
        assert_eq!(got, [2]);
    }

    #[test]
    fn a_refused_request_teaches_the_cache_nothing() {
        let db = model::MemStorage::new();
        let cache = SeriesCache::default();
        let nameless = TimeSeries {
            labels: vec![("k".into(), "v".into())],
            samples: vec![(1, 1.0)],
            histograms: 0,
        };
        let e = store_cached(&db, &cache, &body(&[ts("a", 1), nameless])).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("timeseries[1]"), "{}", e.message);
        assert_eq!(cache.len(), 0);
    }
}
