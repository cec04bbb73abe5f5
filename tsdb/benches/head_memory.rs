//! Head memory per active series: appends `SAMPLES` samples to each of `SERIES` series (1M by
//! default, node_exporter-like labels) and reports the live heap growth per series (counted by
//! a wrapping allocator over glibc malloc), the resident memory growth, and the head's own
//! estimate. `head_memory_mimalloc` runs the same workload on mimalloc, the binary's
//! allocator, for the resident figure a user sees. Run in release:
//!
//! `SERIES=1000000 SAMPLES=120 cargo bench -p tsdb --bench head_memory`

#[path = "common/head_memory.rs"]
mod common;

/// Counts live heap bytes over the system allocator.
#[global_allocator]
static ALLOC: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

fn live_heap_bytes() -> i64 {
    let s = ALLOC.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    common::run(Some(live_heap_bytes));
}
