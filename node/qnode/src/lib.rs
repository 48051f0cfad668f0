//! qnode: configuration, component wiring and lifecycle.
//!
//! [`launch`] assembles a node from a [`NodeConfig`]: chain (MDBX + pool), keystore, p2p network
//! (when configured), consensus engine ([`engines`]) and JSON-RPC servers, and returns a
//! [`NodeHandle`] that owns them. Tests call `launch(NodeConfig::dev_test(dir))` to get a whole
//! node on port 0. [`cli`] maps geth / GoQuorum flags to a [`NodeConfig`].

pub mod cli;
mod config;
mod engines;
mod handle;
mod launch;
mod metrics;
mod p2p;
mod private;

pub use config::{ConsensusChoice, NetworkOptions, NodeConfig, RpcEndpoint};
pub use handle::NodeHandle;
pub use launch::{DEV_KEY, dev_address, init_datadir, launch};
pub use private::PtmPayloads;
