//! Prometheus remote write 1.0: the protobuf messages ([`proto`]), the `remote_write:`
//! configuration ([`config`]) and the sender that forwards stored samples ([`sender`]). The
//! receiving endpoint is the exporter's.

pub mod config;
pub mod proto;
pub mod sender;

pub use config::{QueueConfig, RemoteWriteConfig};
pub use sender::Sender;
