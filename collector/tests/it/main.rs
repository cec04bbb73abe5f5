//! The collector's integration tests, in one binary.

mod exposition;
mod exposition_props;
mod promtool_diff;
