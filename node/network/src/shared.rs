//! State shared between the handle, the swarm service and the per-stream tasks.
//!
//! Sending and receiving messages does not go through the swarm task: `broadcast` pushes into
//! per-peer writer queues, and inbound readers deliver straight to the subscribers.

use std::{collections::HashMap, sync::Arc, time::Duration};

use bytes::Bytes;
use libp2p::PeerId;
use parking_lot::{Mutex, RwLock};
use tokio::sync::mpsc;

use crate::{
    enode::Enode,
    events::{NetworkEvent, PeerInfo, PenaltyReason, RequestHandler},
    permissions::Permissions,
    wire::Topic,
};

/// One queued outbound message.
pub(crate) type OutFrame = (Topic, Bytes);

pub(crate) struct ConnectedPeer {
    pub(crate) info: PeerInfo,
    pub(crate) queue: mpsc::Sender<OutFrame>,
}

pub(crate) struct Limits {
    pub(crate) max_message_bytes: usize,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_blocks_per_request: u32,
    pub(crate) request_timeout: Duration,
    pub(crate) event_buffer: usize,
}

pub(crate) struct Shared {
    pub(crate) local_enode: Enode,
    pub(crate) limits: Limits,
    /// Replaced when `admin_addPeer` re-reads the permission files.
    pub(crate) permissions: RwLock<Option<Permissions>>,
    pub(crate) peers: RwLock<HashMap<PeerId, ConnectedPeer>>,
    subscribers: Mutex<Vec<mpsc::Sender<NetworkEvent>>>,
    pub(crate) control: Mutex<libp2p_stream::Control>,
    pub(crate) handler: Option<Arc<dyn RequestHandler>>,
    pub(crate) penalties: mpsc::UnboundedSender<(PeerId, PenaltyReason)>,
}

impl Shared {
    pub(crate) fn new(
        local_enode: Enode,
        limits: Limits,
        permissions: Option<Permissions>,
        control: libp2p_stream::Control,
        handler: Option<Arc<dyn RequestHandler>>,
        penalties: mpsc::UnboundedSender<(PeerId, PenaltyReason)>,
    ) -> Self {
        Self {
            local_enode,
            limits,
            permissions: RwLock::new(permissions),
            peers: RwLock::new(HashMap::new()),
            subscribers: Mutex::new(Vec::new()),
            control: Mutex::new(control),
            handler,
            penalties,
        }
    }

    pub(crate) fn subscribe(&self) -> mpsc::Receiver<NetworkEvent> {
        let (tx, rx) = mpsc::channel(self.limits.event_buffer.max(1));
        self.subscribers.lock().push(tx);
        rx
    }

    fn live_subscribers(&self) -> Vec<mpsc::Sender<NetworkEvent>> {
        let mut subs = self.subscribers.lock();
        subs.retain(|s| !s.is_closed());
        subs.clone()
    }

    /// Delivers an event, waiting for room (backpressure onto the sending peer's stream).
    pub(crate) async fn deliver(&self, event: NetworkEvent) {
        let subs = self.live_subscribers();
        let Some((last, rest)) = subs.split_last() else { return };
        for sub in rest {
            match event.try_clone() {
                Some(copy) => {
                    let _ = sub.send(copy).await;
                }
                None => break,
            }
        }
        if event.try_clone().is_none() {
            // A request goes to the oldest subscriber only.
            if let Some(first) = subs.first() {
                let _ = first.send(event).await;
            }
            return;
        }
        let _ = last.send(event).await;
    }

    /// Delivers without waiting (used by the swarm task, which must never block).
    pub(crate) fn deliver_now(&self, event: NetworkEvent) {
        for sub in self.live_subscribers() {
            if let Some(copy) = event.try_clone()
                && sub.try_send(copy).is_err()
            {
                tracing::warn!(target: "net::events", "event receiver full; dropped a peer event");
            }
        }
    }

    pub(crate) fn penalise(&self, peer: PeerId, reason: PenaltyReason) {
        let _ = self.penalties.send((peer, reason));
    }

    pub(crate) fn is_connected(&self, peer: &PeerId) -> bool {
        self.peers.read().contains_key(peer)
    }
}
