//! The network service: owns the libp2p swarm, tracks connections, re-dials static peers,
//! enforces permissions and bans. Runs as one tokio task.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use futures::StreamExt;
use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder, allow_block_list,
    multiaddr::Protocol,
    noise,
    swarm::{
        NetworkBehaviour, SwarmEvent,
        behaviour::toggle::Toggle,
        dial_opts::{DialOpts, PeerCondition},
    },
    tcp, yamux,
};
use tokio::{sync::mpsc, time::Instant};

use crate::{
    config::NetworkConfig,
    enode::{Enode, enode_id_of},
    error::{NetworkError, NetworkResult},
    events::{NetworkEvent, PeerInfo, PenaltyReason},
    handle::{Command, NetworkHandle},
    nodekey::NodeKey,
    permissions::Permissions,
    shared::{ConnectedPeer, Limits, Shared},
    streams,
};

const TICK: Duration = Duration::from_millis(100);

#[derive(NetworkBehaviour)]
struct Behaviour {
    /// Permissioned mode: only listed peers, checked on the remote key after the noise handshake.
    allowed: Toggle<allow_block_list::Behaviour<allow_block_list::AllowedPeers>>,
    /// Banned peers (too many strikes).
    banned: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    stream: libp2p_stream::Behaviour,
}

struct DialTarget {
    addr: Multiaddr,
    backoff: Duration,
    next_attempt: Instant,
}

struct Service {
    swarm: Swarm<Behaviour>,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    penalties: mpsc::UnboundedReceiver<(PeerId, PenaltyReason)>,
    targets: HashMap<PeerId, DialTarget>,
    strikes: HashMap<PeerId, u32>,
    bans: HashMap<PeerId, Instant>,
    config: NetworkConfig,
}

/// Starts the network: binds `config.listen`, dials the static nodes, and runs the swarm in a
/// tokio task. Returns the handle and the bound address.
pub async fn spawn(
    key: NodeKey,
    config: NetworkConfig,
) -> NetworkResult<(NetworkHandle, SocketAddr)> {
    let allowed = config.permissioned.as_ref().map(|perms| {
        let mut b = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
        for peer in perms.allowed() {
            b.allow_peer(*peer);
        }
        b
    });
    let behaviour = Behaviour {
        allowed: Toggle::from(allowed),
        banned: allow_block_list::Behaviour::default(),
        stream: libp2p_stream::Behaviour::new(),
    };
    let mut swarm = SwarmBuilder::with_existing_identity(key.keypair())
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(24 * 3600)))
        .build();

    let listen = Multiaddr::empty()
        .with(Protocol::from(config.listen.ip()))
        .with(Protocol::Tcp(config.listen.port()));
    let listen_err =
        |reason: String| NetworkError::Listen { addr: config.listen.to_string(), reason };
    swarm.listen_on(listen).map_err(|e| listen_err(e.to_string()))?;
    let port = loop {
        match swarm.select_next_some().await {
            SwarmEvent::NewListenAddr { address, .. } => {
                if let Some(port) = address.iter().find_map(|p| match p {
                    Protocol::Tcp(port) => Some(port),
                    _ => None,
                }) {
                    break port;
                }
            }
            SwarmEvent::ListenerError { error, .. } => return Err(listen_err(error.to_string())),
            SwarmEvent::ListenerClosed { reason, .. } => {
                return Err(listen_err(reason.err().map(|e| e.to_string()).unwrap_or_default()));
            }
            _ => {}
        }
    };
    let bound = SocketAddr::new(config.listen.ip(), port);

    let host = match (&config.advertised_host, config.listen.ip()) {
        (Some(h), _) => h.clone(),
        (None, ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST).to_string(),
        (None, ip) => ip.to_string(),
    };
    let local_enode =
        Enode { id: key.enode_id(), host, port, raft_port: config.raft_port, discport: Some(0) };

    let mut control = swarm.behaviour().stream.new_control();
    let accept_err = |_| NetworkError::Transport("stream protocol registered twice".into());
    let incoming_messages = control.accept(streams::MSG_PROTOCOL).map_err(accept_err)?;
    let incoming_requests = control.accept(streams::REQ_PROTOCOL).map_err(accept_err)?;

    let (penalty_tx, penalties) = mpsc::unbounded_channel();
    let limits = Limits {
        max_message_bytes: config.max_message_bytes,
        max_response_bytes: config.max_response_bytes,
        max_blocks_per_request: config.max_blocks_per_request,
        request_timeout: config.request_timeout,
        event_buffer: config.event_buffer,
    };
    let shared = Arc::new(Shared::new(
        local_enode,
        limits,
        config.permissioned.clone(),
        control,
        config.request_handler.clone(),
        penalty_tx,
    ));
    tokio::spawn(streams::accept_messages(shared.clone(), incoming_messages));
    tokio::spawn(streams::accept_requests(shared.clone(), incoming_requests));

    let (command_tx, commands) = mpsc::unbounded_channel();
    let mut service = Service {
        swarm,
        shared: shared.clone(),
        commands,
        penalties,
        targets: HashMap::new(),
        strikes: HashMap::new(),
        bans: HashMap::new(),
        config,
    };
    for enode in service.config.static_nodes.clone() {
        service.add_target(&enode);
    }
    tracing::info!(target: "net::service", enode = %shared.local_enode, %bound, "network started");
    tokio::spawn(service.run());
    Ok((NetworkHandle::new(shared, command_tx), bound))
}

impl Service {
    async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::AddPeer(enode)) => self.add_target(&enode),
                    Some(Command::RemovePeer(peer)) => {
                        self.targets.remove(&peer);
                        let _ = self.swarm.disconnect_peer_id(peer);
                    }
                    Some(Command::SetPermissions(perms)) => self.set_permissions(perms),
                    Some(Command::Shutdown) | None => break,
                },
                Some((peer, reason)) = self.penalties.recv() => self.on_penalty(peer, reason),
                _ = tick.tick() => self.on_tick(),
            }
        }
        tracing::info!(target: "net::service", "network stopped");
    }

    /// Replaces the swarm's allow list (peers no longer allowed are disconnected by it).
    fn set_permissions(&mut self, perms: Permissions) {
        let Some(allowed) = self.swarm.behaviour_mut().allowed.as_mut() else { return };
        if let Some(old) = &self.config.permissioned {
            for peer in old.allowed().filter(|p| !perms.is_allowed(p)) {
                allowed.disallow_peer(*peer);
            }
        }
        for peer in perms.allowed() {
            allowed.allow_peer(*peer);
        }
        self.config.permissioned = Some(perms);
    }

    fn add_target(&mut self, enode: &Enode) {
        let peer = enode.peer_id();
        if peer == *self.swarm.local_peer_id() {
            return;
        }
        match enode.multiaddr() {
            Ok(addr) => {
                let backoff = self.config.dial_backoff_initial;
                self.targets
                    .insert(peer, DialTarget { addr, backoff, next_attempt: Instant::now() });
            }
            Err(e) => {
                tracing::warn!(target: "net::dial", %enode, %e, "static node cannot be dialled")
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> =
            self.bans.iter().filter(|(_, until)| **until <= now).map(|(p, _)| *p).collect();
        for peer in expired {
            self.bans.remove(&peer);
            self.strikes.remove(&peer);
            self.swarm.behaviour_mut().banned.unblock_peer(peer);
            tracing::info!(target: "net::peers", %peer, "ban expired");
        }
        let due: Vec<(PeerId, Multiaddr)> = self
            .targets
            .iter()
            .filter(|(p, t)| {
                t.next_attempt <= now && !self.swarm.is_connected(p) && !self.bans.contains_key(p)
            })
            .map(|(p, t)| (*p, t.addr.clone()))
            .collect();
        for (peer, addr) in due {
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![addr])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::trace!(target: "net::dial", %peer, %e, "dial not started");
            }
            // The next attempt waits for the backoff; a success resets it.
            if let Some(t) = self.targets.get_mut(&peer) {
                t.next_attempt = now + t.backoff;
                t.backoff = (t.backoff * 2).min(self.config.dial_backoff_max);
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. } => {
                if let Some(t) = self.targets.get_mut(&peer_id) {
                    t.backoff = self.config.dial_backoff_initial;
                }
                if num_established.get() == 1 {
                    self.on_peer_connected(
                        peer_id,
                        endpoint.get_remote_address().clone(),
                        endpoint.is_listener(),
                    );
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                if self.shared.peers.write().remove(&peer_id).is_some() {
                    tracing::debug!(target: "net::peers", peer = %peer_id, "peer disconnected");
                    self.shared.deliver_now(NetworkEvent::PeerDisconnected(peer_id));
                }
                if let Some(t) = self.targets.get_mut(&peer_id) {
                    t.next_attempt =
                        t.next_attempt.max(Instant::now() + self.config.dial_backoff_initial);
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. } => {
                tracing::debug!(target: "net::dial", %peer, %error, "dial failed");
            }
            SwarmEvent::IncomingConnectionError { send_back_addr, error, .. } => {
                tracing::debug!(target: "net::peers", %send_back_addr, %error, "inbound connection refused");
            }
            _ => {}
        }
    }

    fn on_peer_connected(&mut self, peer: PeerId, remote_addr: Multiaddr, inbound: bool) {
        let (queue, rx) = mpsc::channel(self.config.peer_queue_len.max(1));
        let info = PeerInfo {
            peer_id: peer,
            enode_id: enode_id_of(&peer),
            remote_addr,
            inbound,
            strikes: self.strikes.get(&peer).copied().unwrap_or(0),
        };
        self.shared.peers.write().insert(peer, ConnectedPeer { info, queue });
        let control = self.swarm.behaviour().stream.new_control();
        tokio::spawn(streams::run_writer(peer, control, rx));
        tracing::debug!(target: "net::peers", %peer, inbound, "peer connected");
        self.shared.deliver_now(NetworkEvent::PeerConnected(peer));
    }

    fn on_penalty(&mut self, peer: PeerId, reason: PenaltyReason) {
        let strikes = {
            let s = self.strikes.entry(peer).or_insert(0);
            *s = s.saturating_add(1);
            *s
        };
        if let Some(p) = self.shared.peers.write().get_mut(&peer) {
            p.info.strikes = strikes;
        }
        let banned = strikes >= self.config.max_strikes;
        tracing::warn!(target: "net::peers", %peer, ?reason, strikes, banned, "peer penalised");
        if banned {
            self.bans.insert(peer, Instant::now() + self.config.ban_duration);
            // Closes every connection and refuses new ones until the ban expires.
            self.swarm.behaviour_mut().banned.block_peer(peer);
        }
        self.shared.deliver_now(NetworkEvent::PeerPenalised { peer, reason, strikes, banned });
    }
}
