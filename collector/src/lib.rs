//! Readers for procfs and cgroups, the exposition-format parser and the scrape loop.

pub mod exposition;
