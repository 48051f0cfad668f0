//! qnode: configuration, component wiring and lifecycle.
//!
//! [`launch`] assembles a node from a [`NodeConfig`]: chain (MDBX + pool), keystore, consensus
//! engine and JSON-RPC servers, and returns a [`NodeHandle`] that owns them. Tests call
//! `launch(NodeConfig::dev_test(dir))` to get a whole node on port 0.

mod config;
mod launch;

pub use config::{ConsensusChoice, NodeConfig, RpcEndpoint};
pub use launch::{DEV_KEY, NodeHandle, dev_address, init_datadir, launch};
