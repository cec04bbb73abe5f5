//! Everything promlet serves over HTTP (issues 3-8); empty until then.
