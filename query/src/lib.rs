//! The PromQL parser and engine (issue 3); empty until then.
