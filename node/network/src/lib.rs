//! libp2p networking for the quorum-rs node.
//!
//! * Identity: the GoQuorum `nodekey` (secp256k1). The same key authenticates the noise
//!   handshake, so enode ids in `static-nodes.json` / `permissioned-nodes.json` map 1:1 to
//!   libp2p peer ids ([`Enode::peer_id`]).
//! * Transport: TCP + noise + yamux. Permissioned mode ([`Permissions`]) checks the remote
//!   peer id after the noise handshake, for inbound and outbound connections.
//! * Messages: opaque [`bytes::Bytes`] with a [`Topic`], sent as length-prefixed frames on one
//!   long-lived stream per peer and direction (not gossipsub: in a small permissioned full mesh a
//!   direct send is one hop, and it avoids gossipsub's per-message signing and bookkeeping; see
//!   `README.md`). Transactions travel in batches ([`encode_tx_batch`]).
//! * Requests: [`Request::Status`] and [`Request::Blocks`] on a fresh stream each, answered by the
//!   node's [`RequestHandler`] or surfaced as [`NetworkEvent::Request`].
//! * Abuse: oversized or malformed frames are dropped and the sender gets a strike; at
//!   `max_strikes` it is disconnected and banned for `ban_duration`.
//!
//! Handle/service split: [`spawn`] runs the swarm in a tokio task and returns a cloneable
//! [`NetworkHandle`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod config;
mod enode;
mod error;
mod events;
mod files;
mod handle;
mod metrics;
mod nodekey;
mod permissions;
mod service;
mod shared;
mod streams;
pub mod wire;

pub use config::NetworkConfig;
pub use enode::{Enode, enode_id_of};
pub use error::{NetworkError, NetworkResult};
pub use events::{NetworkEvent, PeerInfo, PenaltyReason, RequestHandler, Responder};
pub use files::{
    load_disallowed_nodes, load_enode_list, load_permissioned_nodes, load_static_nodes,
};
pub use handle::NetworkHandle;
pub use libp2p::{Multiaddr, PeerId};
pub use nodekey::NodeKey;
pub use permissions::Permissions;
pub use service::spawn;
pub use wire::{Request, Response, Status, Topic, decode_tx_batch, encode_tx_batch};
