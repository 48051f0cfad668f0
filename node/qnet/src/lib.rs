//! qnet: a whole GoQuorum-style network (qnode + qtm) in one command.
//!
//! * [`layout`]: names, roles, ports and file paths (pure; shared by `init`, `up` and tests).
//! * [`generate`]: `qnet init`, writing keys, genesis, peer lists, TM configs, flags, docker
//!   files and `network.json` into a directory.
//! * [`network_json`]: the `network.json` serde types.
//! * [`run`]: `qnet up`, `status` and `down` (processes, pid files, logs, health probes).
//! * [`add_node`]: `qnet add-node`, a new node joining a running network.
//! * [`bench`]: `qnet bench`, a load generator and its JSON report and SVG chart.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod add_node;
pub mod bench;
pub mod error;
pub mod generate;
pub mod layout;
pub mod network_json;
pub mod run;

pub use error::QnetError;
pub use generate::{InitOptions, init};
pub use layout::{Consensus, Forks, Layout, NetworkSpec, NodePlan, PortScheme, Role, TmPorts};
pub use network_json::{NetworkJson, NodeEntry, TmEntry};
