//! [`NodeHandle`]: a running node.

use std::net::SocketAddr;

use eyre::eyre;
use qrs_chain::Chain;
use qrs_network::{Enode, NetworkHandle};
use qrs_sync::{ChainRequestHandler, SyncHandle};
use tokio::sync::watch;

/// A running node. Dropping it stops everything.
#[derive(Debug)]
pub struct NodeHandle {
    /// The chain.
    pub chain: Chain,
    /// Bound HTTP address.
    pub http_addr: Option<SocketAddr>,
    /// Bound WebSocket address.
    pub ws_addr: Option<SocketAddr>,
    /// The p2p network, when it runs.
    pub network: Option<NetworkHandle>,
    /// Bound p2p address.
    pub p2p_addr: Option<SocketAddr>,
    /// Block sync and transaction gossip, when the network runs.
    pub sync: Option<SyncHandle>,
    /// Bound metrics server addresses (`--metrics`).
    pub metrics_addrs: Vec<SocketAddr>,
    pub(crate) handler: Option<ChainRequestHandler>,
    pub(crate) servers: Vec<jsonrpsee::server::ServerHandle>,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) engine: Option<tokio::task::JoinHandle<Result<(), qrs_consensus::EngineError>>>,
}

impl NodeHandle {
    pub(crate) fn new(
        chain: Chain,
        shutdown: watch::Sender<bool>,
        handler: Option<ChainRequestHandler>,
    ) -> Self {
        Self {
            chain,
            http_addr: None,
            ws_addr: None,
            network: None,
            p2p_addr: None,
            sync: None,
            metrics_addrs: Vec::new(),
            handler,
            servers: Vec::new(),
            shutdown,
            engine: None,
        }
    }

    /// `http://addr` of the HTTP server.
    pub fn http_url(&self) -> Option<String> {
        self.http_addr.map(|a| format!("http://{a}"))
    }

    /// `ws://addr` of the WebSocket server.
    pub fn ws_url(&self) -> Option<String> {
        self.ws_addr.map(|a| format!("ws://{a}"))
    }

    /// `http://addr/debug/metrics/prometheus` for each metrics server.
    pub fn metrics_urls(&self) -> Vec<String> {
        self.metrics_addrs.iter().map(|a| format!("http://{a}/debug/metrics/prometheus")).collect()
    }

    /// Our enode URL (with the bound port), when the network runs.
    pub fn enode(&self) -> Option<Enode> {
        self.network.as_ref().map(NetworkHandle::local_enode)
    }

    /// Stops the engine, sync, the servers and the network, and waits for them.
    pub async fn stop(mut self) -> eyre::Result<()> {
        let _ = self.shutdown.send(true);
        for s in self.servers.drain(..) {
            let _ = s.stop();
            s.stopped().await;
        }
        let engine = self.engine.take();
        if let Some(sync) = self.sync.take() {
            sync.join().await;
        }
        self.close_network();
        if let Some(engine) = engine {
            engine.await.map_err(|e| eyre!("engine task: {e}"))??;
        }
        Ok(())
    }

    fn close_network(&mut self) {
        if let Some(network) = self.network.take() {
            network.shutdown();
        }
        // the network's stream tasks may outlive it: let go of the chain now
        if let Some(handler) = self.handler.take() {
            handler.close();
        }
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for s in &self.servers {
            let _ = s.stop();
        }
        self.close_network();
    }
}
