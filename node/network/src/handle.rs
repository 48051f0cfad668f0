//! [`NetworkHandle`]: the cheap, cloneable front of the network service.

use std::sync::Arc;

use bytes::Bytes;
use libp2p::PeerId;
use tokio::sync::mpsc;

use crate::{
    enode::Enode,
    error::{NetworkError, NetworkResult},
    events::{NetworkEvent, PeerInfo, PenaltyReason},
    permissions::Permissions,
    shared::Shared,
    streams,
    wire::{Request, Response, Topic},
};

/// Commands handled by the swarm task.
#[derive(Debug)]
pub(crate) enum Command {
    AddPeer(Enode),
    RemovePeer(PeerId),
    /// The permission files were re-read: the swarm's allow list becomes this set.
    SetPermissions(Permissions),
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
    /// when the node is not permitted, as GoQuorum does. A peer the current set does not allow
    /// makes the node re-read `permissioned-nodes.json` / `disallowed-nodes.json` first (as
    /// GoQuorum reads them on each connection), so a node added to the files is admitted both
    /// ways without a restart.
    pub fn add_peer(&self, enode: Enode) -> NetworkResult<()> {
        let peer = enode.peer_id();
        enode.multiaddr()?;
        if !self.permits(&peer)? {
            return Err(NetworkError::NotPermitted(peer));
        }
        self.command(Command::AddPeer(enode))
    }

    /// Whether `peer` may connect, re-reading the permission files when the current set says no.
    fn permits(&self, peer: &PeerId) -> NetworkResult<bool> {
        let reloaded = {
            let current = self.shared().permissions.read();
            let Some(p) = current.as_ref() else { return Ok(true) };
            if p.is_allowed(peer) {
                return Ok(true);
            }
            match p.reload() {
                Some(reloaded) => reloaded?,
                None => return Ok(false),
            }
        };
        let allowed = reloaded.is_allowed(peer);
        tracing::info!(target: "net::permissions", %peer, allowed, peers = reloaded.allowed().count(),
            "re-read the permission files");
        *self.shared().permissions.write() = Some(reloaded.clone());
        self.command(Command::SetPermissions(reloaded))?;
        Ok(allowed)
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
