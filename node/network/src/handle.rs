//! [`NetworkHandle`]: the cheap, cloneable front of the network service.

use std::sync::Arc;

use bytes::Bytes;
use libp2p::PeerId;
use tokio::sync::mpsc;

use crate::{
    enode::Enode,
    error::{NetworkError, NetworkResult},
    events::{NetworkEvent, PeerInfo, PenaltyReason},
    shared::Shared,
    streams,
    wire::{Request, Response, Topic},
};

/// Commands handled by the swarm task.
#[derive(Debug)]
pub(crate) enum Command {
    AddPeer(Enode),
    RemovePeer(PeerId),
    Shutdown,
}

/// Handle to a running network service. Cloning is cheap; the service stops when the last
/// handle is dropped or [`NetworkHandle::shutdown`] is called.
#[derive(Clone)]
pub struct NetworkHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}

impl std::fmt::Debug for NetworkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkHandle")
            .field("local_enode", &self.inner.shared.local_enode)
            .finish()
    }
}

impl NetworkHandle {
    pub(crate) fn new(shared: Arc<Shared>, commands: mpsc::UnboundedSender<Command>) -> Self {
        Self { inner: Arc::new(HandleInner { shared, commands }) }
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    fn command(&self, cmd: Command) -> NetworkResult<()> {
        self.inner.commands.send(cmd).map_err(|_| NetworkError::ServiceStopped)
    }

    /// Connected peers.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.shared().peers.read().values().map(|p| p.info.clone()).collect()
    }

    /// Number of connected peers.
    pub fn num_connected_peers(&self) -> usize {
        self.shared().peers.read().len()
    }

    /// Our enode URL (`admin_nodeInfo.enode`).
    pub fn local_enode(&self) -> Enode {
        self.shared().local_enode.clone()
    }

    /// Dials `enode` now and keeps re-dialling it (`admin_addPeer`). Refused in permissioned mode
    /// when the node is not permitted, as GoQuorum does.
    pub fn add_peer(&self, enode: Enode) -> NetworkResult<()> {
        let peer = enode.peer_id();
        if let Some(p) = &self.shared().permissions
            && !p.is_allowed(&peer)
        {
            return Err(NetworkError::NotPermitted(peer));
        }
        enode.multiaddr()?;
        self.command(Command::AddPeer(enode))
    }

    /// Stops re-dialling `enode` and disconnects it (`admin_removePeer`).
    pub fn remove_peer(&self, enode: &Enode) -> NetworkResult<()> {
        self.command(Command::RemovePeer(enode.peer_id()))
    }

    /// Queues `bytes` for every connected peer. Returns how many peers it was queued for; a peer
    /// whose queue is full misses the message (logged).
    pub fn broadcast(&self, topic: Topic, bytes: Bytes) -> NetworkResult<usize> {
        self.check_size(&bytes)?;
        let peers = self.shared().peers.read();
        let mut queued = 0;
        for (peer, p) in peers.iter() {
            match p.queue.try_send((topic, bytes.clone())) {
                Ok(()) => queued += 1,
                Err(_) => {
                    tracing::warn!(target: "net::broadcast", %peer, ?topic, "peer queue full; message dropped")
                }
            }
        }
        Ok(queued)
    }

    /// Queues `bytes` for one peer.
    pub fn send(&self, peer: PeerId, topic: Topic, bytes: Bytes) -> NetworkResult<()> {
        self.check_size(&bytes)?;
        let peers = self.shared().peers.read();
        let p = peers.get(&peer).ok_or(NetworkError::NotConnected(peer))?;
        p.queue.try_send((topic, bytes)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => NetworkError::QueueFull(peer),
            mpsc::error::TrySendError::Closed(_) => NetworkError::NotConnected(peer),
        })
    }

    /// Queues `bytes` for one peer, waiting while its queue is full.
    pub async fn send_wait(&self, peer: PeerId, topic: Topic, bytes: Bytes) -> NetworkResult<()> {
        self.check_size(&bytes)?;
        let queue = {
            let peers = self.shared().peers.read();
            peers.get(&peer).ok_or(NetworkError::NotConnected(peer))?.queue.clone()
        };
        queue.send((topic, bytes)).await.map_err(|_| NetworkError::NotConnected(peer))
    }

    fn check_size(&self, bytes: &Bytes) -> NetworkResult<()> {
        let limit = self.shared().limits.max_message_bytes;
        if bytes.len() > limit {
            return Err(NetworkError::MessageTooLarge { size: bytes.len(), limit });
        }
        Ok(())
    }

    /// Sends a request and waits (at most `request_timeout`) for the response.
    pub async fn request(&self, peer: PeerId, request: Request) -> NetworkResult<Response> {
        streams::request(self.shared(), peer, request).await
    }

    /// A new receiver of [`NetworkEvent`]s. Keep it drained: inbound streams wait when it is full.
    pub fn events(&self) -> mpsc::Receiver<NetworkEvent> {
        self.shared().subscribe()
    }

    /// Gives `peer` a strike; at `max_strikes` it is disconnected and banned for `ban_duration`.
    pub fn penalise(&self, peer: PeerId, reason: PenaltyReason) {
        self.shared().penalise(peer, reason);
    }

    /// Stops the service and closes all connections.
    pub fn shutdown(&self) {
        let _ = self.command(Command::Shutdown);
    }
}
