//! End-to-end tests that drive whole `qnode` processes over real sockets.
//!
//! This library is the process harness the integration tests (`tests/it/`) and later network
//! tests share:
//!
//! - [`binary`]: finds the `qnode` binary next to the test executable (`target/<profile>/qnode`).
//! - [`process`]: [`QNode`] spawns a node on port 0, parses the endpoints it prints, stops it with
//!   SIGTERM or SIGKILL, restarts it on the same data directory and kills it on drop.
//! - [`rpc`]: a blocking JSON-RPC-over-HTTP client that keeps geth's error code, message and data.
//! - [`wallet`]: signs transactions locally with alloy and sends them raw.
//! - [`network`]: [`TestNet`], N-node QBFT or Raft networks of processes, peered by
//!   `static-nodes.json`, with stop / kill / restart of any node and fork checks.
//! - [`load`]: a load generator (pre-signed ERC-20 transfers, batched submission, inclusion
//!   latency) for the network benchmarks.
//! - [`qtm`]: [`qtm::Qtm`], a transaction manager process per member for private transactions.
//! - [`private`]: the raw private flow (`/storeraw`, `v` 37/38 signing, `eth_sendRawPrivateTransaction`).
//! - [`ports`]: ports for nodes whose peers must know them in advance, reserved across test
//!   processes below the ephemeral range.
//! - [`cpu`]: CPU time per process and of the machine, for the benches' cost split.
//! - [`verify`]: independent checks of what the node reports (header hashes, account proofs).
//!
//! The tests need the binary built first: `cargo build --workspace --bins` (CI does this before
//! `cargo test -p qrs-e2e`).

pub mod binary;
pub mod cpu;
pub mod load;
pub mod network;
pub mod ports;
pub mod private;
pub mod process;
pub mod qtm;
pub mod rpc;
pub mod verify;
pub mod wallet;

pub use network::{Consensus, TestNet};
pub use process::{QNode, QNodeOptions};
pub use rpc::{Rpc, RpcError};
pub use wallet::{DEV_ADDRESS, DEV_CHAIN_ID, DEV_KEY, Wallet};
