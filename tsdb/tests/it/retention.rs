//! Retention drops whole partitions and gives the disk space back.

use model::Sample;
use tsdb::{Db, Options, dir_disk_bytes};

/// Bytes of the table files and the WAL. The key-value store's journal is left out: it is one
/// file that rotates only every 64 MB, so in a test this small it holds a copy of everything
/// written whatever retention does.
fn data_bytes(dir: &std::path::Path) -> u64 {
    dir_disk_bytes(&dir.join("kv").join("keyspaces")) + dir_disk_bytes(&dir.join("wal"))
}

use crate::{append_all, labels, select_all, small_options};

#[test]
fn retention_drops_old_partitions_and_returns_space() {
    let dir = tempfile::tempdir().unwrap();
    let hour = 3_600_000;
    let opts = Options {
        retention_ms: 2 * hour,
        chunk_max_samples: 120,
        ..small_options()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    // Eight hours of one sample per second for 20 series, values changing so chunks are big.
    for h in 0..8i64 {
        let series: Vec<_> = (0..20)
            .map(|j| {
                let samples = (0..3600)
                    .map(|i| {
                        let t = h * hour + i * 1000;
                        Sample::new(t, (t as f64).sin() * 1e6 + j as f64)
                    })
                    .collect();
                (labels("m", &format!("j{j}")), samples)
            })
            .collect();
        append_all(&db, &series);
    }
    db.flush().unwrap();
    let before = data_bytes(dir.path());
    let dropped = db.apply_retention().unwrap();
    // Newest sample at 8h - 1s, so the cutoff is 6h - 1s: the partitions [0h,1h) .. [4h,5h)
    // end before it and go; [5h,6h) still holds samples inside retention and stays.
    assert_eq!(dropped, 5);
    db.flush().unwrap();
    let after = data_bytes(dir.path());
    assert!(
        after < before / 2,
        "disk bytes before {before}, after {after}"
    );
    let left = select_all(&db, i64::MIN, i64::MAX);
    assert_eq!(left.len(), 20);
    let oldest = left.iter().map(|s| s.samples[0].t).min().unwrap();
    assert_eq!(oldest, 5 * hour);
}
