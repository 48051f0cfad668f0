//! qtm: a Tessera-compatible private transaction manager.
//!
//! A GoQuorum node, web3js-quorum or a Tessera peer must not be able to tell qtm from Tessera:
//! same config file, same paths, JSON fields, media types, headers, status codes and binary
//! formats. Modules:
//!
//! * [`config`]: Tessera's config JSON.
//! * [`media`]: media types, API versions, `tesseraSupportedApiVersions`.
//! * [`partyinfo`]: the binary PartyInfo codec.
//! * [`model`]: Tessera's JSON models.
//! * [`error`]: the HTTP error model (404 only for "definitely not here").
//! * [`client`]: calls to other nodes' P2P APIs.
//! * [`push_queue`]: pushes to one peer, coalesced into `/pushBatch` under load.
//! * [`discovery`]: PartyInfo discovery with key-to-URL binding and remote key validation.
//! * [`transaction`]: send, receive, raw transactions, push/merge, resend, privacy checks.
//! * [`api`]: the Q2T, ThirdParty and P2P servers and the OpenAPI documents.
//! * [`tls`]: rustls mutual TLS for P2P.
//! * [`node`]: wiring it all up from a config.
//! * [`metrics`]: `/metrics` on the P2P server (requests, latencies, payloads, peers).
//! * [`logging`]: text or Tessera-style JSON log lines.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod client;
pub mod config;
pub mod discovery;
pub mod error;
pub mod logging;
pub mod media;
pub mod metrics;
pub mod model;
pub mod node;
pub mod partyinfo;
pub mod push_queue;
pub mod tls;
pub mod transaction;

pub use config::TesseraConfig;
pub use node::{RunningNode, start};
pub use partyinfo::PartyInfoMessage;
