//! The head-memory workload of `head_memory.rs` on mimalloc, the allocator of the promlet
//! binary: its resident-memory figure is what a user of the binary sees.
//!
//! `SERIES=1000000 SAMPLES=120 cargo bench -p tsdb --bench head_memory_mimalloc`

#[path = "common/head_memory.rs"]
mod common;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    common::run(None);
}
