//! What the network reports to the node, and the request-serving seam the node implements.

use std::{borrow::Cow, fmt};

use bytes::Bytes;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;

use crate::wire::{Request, Response, Status, Topic, WireError};

/// Serves `Status` and `Blocks` requests from peers; implemented by the node.
/// Called on a blocking thread (`spawn_blocking`), so it may read the database.
pub trait RequestHandler: Send + Sync + 'static {
    /// Our head and genesis.
    fn status(&self) -> Status;
    /// Up to `count` encoded blocks from number `from` on (fewer if the chain is shorter).
    fn blocks(&self, from: u64, count: u32) -> Vec<Bytes>;
}

/// Why a peer got a strike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PenaltyReason {
    /// It sent a frame larger than our limit.
    Oversized {
        /// Announced size.
        size: usize,
        /// Our limit.
        limit: usize,
    },
    /// It sent bytes that do not decode.
    Malformed(WireError),
    /// The node judged a message invalid (bad transaction, bad consensus message, ...).
    Application(Cow<'static, str>),
}

impl From<WireError> for PenaltyReason {
    fn from(e: WireError) -> Self {
        match e {
            WireError::TooLarge { size, limit } => PenaltyReason::Oversized { size, limit },
            other => PenaltyReason::Malformed(other),
        }
    }
}

/// A connected peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// libp2p peer id (derived from the same secp256k1 key as the enode id).
    pub peer_id: PeerId,
    /// The peer's enode id.
    pub enode_id: Option<[u8; 64]>,
    /// Remote address of the first connection.
    pub remote_addr: Multiaddr,
    /// Whether the peer dialled us.
    pub inbound: bool,
    /// Strikes collected since the last ban.
    pub strikes: u32,
}

/// Answers one inbound [`Request`]; dropping it makes the requester fail with `NoResponse`.
pub struct Responder(pub(crate) oneshot::Sender<Response>);

impl Responder {
    /// Sends the response.
    pub fn respond(self, response: Response) {
        let _ = self.0.send(response);
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Responder")
    }
}

/// Events delivered to every `events()` receiver (a `Request` goes to the oldest live receiver only).
#[derive(Debug)]
pub enum NetworkEvent {
    /// First connection to a peer established.
    PeerConnected(PeerId),
    /// Last connection to a peer closed.
    PeerDisconnected(PeerId),
    /// A message from a peer.
    Message {
        /// Sender.
        from: PeerId,
        /// Topic.
        topic: Topic,
        /// Payload.
        bytes: Bytes,
    },
    /// A request from a peer (only when no [`RequestHandler`] is configured).
    Request {
        /// Requester.
        from: PeerId,
        /// The request.
        req: Request,
        /// Where to send the answer.
        responder: Responder,
    },
    /// A peer got a strike; `banned` when it reached `max_strikes` and was disconnected.
    PeerPenalised {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: PenaltyReason,
        /// Strikes now.
        strikes: u32,
        /// Whether the peer is now banned.
        banned: bool,
    },
}

impl NetworkEvent {
    /// A copy for another subscriber; `None` for `Request` (it has a single responder).
    pub(crate) fn try_clone(&self) -> Option<Self> {
        Some(match self {
            NetworkEvent::PeerConnected(p) => NetworkEvent::PeerConnected(*p),
            NetworkEvent::PeerDisconnected(p) => NetworkEvent::PeerDisconnected(*p),
            NetworkEvent::Message { from, topic, bytes } => {
                NetworkEvent::Message { from: *from, topic: *topic, bytes: bytes.clone() }
            }
            NetworkEvent::PeerPenalised { peer, reason, strikes, banned } => {
                NetworkEvent::PeerPenalised {
                    peer: *peer,
                    reason: reason.clone(),
                    strikes: *strikes,
                    banned: *banned,
                }
            }
            NetworkEvent::Request { .. } => return None,
        })
    }
}
