//! qnet integration tests: `qnet init` output checked with the crates that consume it
//! (chainspec, qbft, keystore, enclave, qtm, network) and with the real qnode/qtm binaries.

mod add_node;
mod bench;
mod common;
mod docker;
mod files;
mod js;
mod private;
mod processes;
mod raft;
mod run_common;
mod up;
mod up_errors;
