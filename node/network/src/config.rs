//! Network configuration.

use std::{fmt, net::SocketAddr, sync::Arc, time::Duration};

use crate::{enode::Enode, events::RequestHandler, permissions::Permissions};

/// Configuration of the network service. Start from [`NetworkConfig::default`] and override fields.
#[derive(Clone)]
pub struct NetworkConfig {
    /// TCP listen address; port 0 picks a free port (the bound address is returned by `spawn`).
    pub listen: SocketAddr,
    /// Host written into our own enode when `listen` is the unspecified address (default `127.0.0.1`).
    pub advertised_host: Option<String>,
    /// `raftport` written into our own enode.
    pub raft_port: Option<u16>,
    /// Peers from `static-nodes.json`: dialled at start and re-dialled with backoff.
    pub static_nodes: Vec<Enode>,
    /// `Some` = `--permissioned`: only these peers may connect, inbound and outbound.
    pub permissioned: Option<Permissions>,
    /// Largest message payload accepted or sent. Larger inbound frames are dropped and the sender penalised.
    pub max_message_bytes: usize,
    /// Largest response body accepted; a serving node trims block lists to fit.
    pub max_response_bytes: usize,
    /// Most blocks served for one `Blocks` request.
    pub max_blocks_per_request: u32,
    /// Deadline of an outbound request, and of a local answer to an inbound one.
    pub request_timeout: Duration,
    /// Strikes after which a peer is disconnected and banned.
    pub max_strikes: u32,
    /// How long a banned peer stays banned.
    pub ban_duration: Duration,
    /// First re-dial delay of a static peer; doubled after each failure.
    pub dial_backoff_initial: Duration,
    /// Largest re-dial delay.
    pub dial_backoff_max: Duration,
    /// Messages queued per peer before `broadcast`/`send` report [`crate::NetworkError::QueueFull`].
    pub peer_queue_len: usize,
    /// Capacity of each `events()` receiver (inbound readers wait when it is full: backpressure).
    pub event_buffer: usize,
    /// Answers `Status` / `Blocks` requests. `None` = requests surface as `NetworkEvent::Request`.
    pub request_handler: Option<Arc<dyn RequestHandler>>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 30303)),
            advertised_host: None,
            raft_port: None,
            static_nodes: Vec::new(),
            permissioned: None,
            max_message_bytes: 8 * 1024 * 1024,
            max_response_bytes: 32 * 1024 * 1024,
            max_blocks_per_request: 1024,
            request_timeout: Duration::from_secs(10),
            max_strikes: 3,
            ban_duration: Duration::from_secs(60),
            dial_backoff_initial: Duration::from_millis(250),
            dial_backoff_max: Duration::from_secs(30),
            peer_queue_len: 1024,
            event_buffer: 8192,
            request_handler: None,
        }
    }
}

impl NetworkConfig {
    /// Default config listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        Self { listen, ..Self::default() }
    }
}

impl fmt::Debug for NetworkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkConfig")
            .field("listen", &self.listen)
            .field("static_nodes", &self.static_nodes.len())
            .field("permissioned", &self.permissioned.is_some())
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("max_strikes", &self.max_strikes)
            .field("request_handler", &self.request_handler.is_some())
            .finish_non_exhaustive()
    }
}
