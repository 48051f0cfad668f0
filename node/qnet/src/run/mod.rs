//! Running a generated network: `qnet up`, `qnet status`, `qnet down`.
//!
//! * [`bins`]: finding the qnode and qtm binaries.
//! * [`procs`]: child processes, pid files (`D/run/<name>.pid`), logs (`D/logs/<name>.log`),
//!   liveness and stopping (SIGTERM, then SIGKILL).
//! * [`probe`] and [`ws`]: JSON-RPC over HTTP and WebSocket, TM REST calls.
//! * [`status`]: one health snapshot of every node and TM, and its table.
//! * [`up`]: start what is down, wait until healthy, stop on a signal.
//! * [`ports`]: every port of a service, checked free before anything starts.

pub mod bins;
pub mod ports;
pub mod probe;
pub mod procs;
pub mod status;
pub mod up;
pub mod ws;

pub use procs::{Service, ServiceKind, down};
pub use status::{NetworkStatus, NodeStatus};
pub use up::{Started, UpOptions, up};
