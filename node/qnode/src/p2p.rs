//! Starting the p2p network from [`NetworkOptions`] and GoQuorum's data-directory files.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use eyre::WrapErr;
use qrs_network::{NetworkConfig, NetworkHandle, NodeKey, Permissions, RequestHandler};

use crate::config::NetworkOptions;

/// A running network.
pub(crate) struct Started {
    pub handle: NetworkHandle,
    pub addr: SocketAddr,
    pub key: NodeKey,
}

/// geth's `ResolvePath` for its "old" instance files (`nodekey`, `static-nodes.json`, ...):
/// `<datadir>/<name>` when that file exists, otherwise `<datadir>/geth/<name>`.
pub(crate) fn resolve(datadir: &Path, name: &str) -> PathBuf {
    let legacy = datadir.join(name);
    if legacy.exists() { legacy } else { datadir.join("geth").join(name) }
}

/// The node key: the configured one, or `<datadir>/geth/nodekey` (generated on first start).
pub(crate) fn node_key(opts: &NetworkOptions, datadir: &Path) -> eyre::Result<NodeKey> {
    if let Some(key) = &opts.node_key {
        return Ok(key.clone());
    }
    let path = resolve(datadir, "nodekey");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    }
    NodeKey::load_or_generate(&path).wrap_err_with(|| format!("node key {}", path.display()))
}

/// Binds the listener, dials the static nodes and starts the network service.
pub(crate) async fn start(
    opts: &NetworkOptions,
    datadir: &Path,
    handler: Option<Arc<dyn RequestHandler>>,
) -> eyre::Result<Started> {
    let key = node_key(opts, datadir)?;
    let mut config = NetworkConfig::new(opts.listen);
    config.advertised_host = opts.advertised_host.clone();
    let static_file = resolve(datadir, "static-nodes.json");
    if static_file.exists() {
        config.static_nodes = qrs_network::load_static_nodes(&static_file)
            .wrap_err_with(|| format!("reading {}", static_file.display()))?;
    }
    let own = key.enode_id();
    config.static_nodes.retain(|e| e.id != own);
    for enode in &opts.extra_static_nodes {
        if enode.id != own && !config.static_nodes.contains(enode) {
            config.static_nodes.push(enode.clone());
        }
    }
    if opts.permissioned {
        config.permissioned = Some(
            Permissions::load(
                datadir.join("permissioned-nodes.json"),
                datadir.join("disallowed-nodes.json"),
            )
            .wrap_err("reading permissioned-nodes.json")?,
        );
    }
    config.request_handler = handler;
    tracing::info!(target: "node::p2p", listen = %opts.listen, static_nodes = config.static_nodes.len(),
        permissioned = opts.permissioned, max_peers = opts.max_peers, "starting p2p network");
    let (handle, addr) = qrs_network::spawn(key.clone(), config)
        .await
        .wrap_err_with(|| format!("starting p2p network on {}", opts.listen))?;
    enforce_max_peers(handle.clone(), opts.max_peers);
    Ok(Started { handle, addr, key })
}

/// `--maxpeers`: an inbound connection beyond the limit is closed (as geth's "too many peers").
/// Outbound connections (static nodes, `admin_addPeer`) are what the operator asked for and stay.
fn enforce_max_peers(network: NetworkHandle, max_peers: usize) {
    let mut events = network.events();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let qrs_network::NetworkEvent::PeerConnected(peer) = event else { continue };
            let peers = network.peers();
            if peers.len() <= max_peers {
                continue;
            }
            let Some(info) = peers.iter().find(|p| p.peer_id == peer && p.inbound) else {
                continue;
            };
            let Some(id) = info.enode_id.or_else(|| qrs_network::enode_id_of(&peer)) else {
                continue;
            };
            // only the id matters for a disconnect
            let enode = qrs_network::Enode {
                id,
                host: "0.0.0.0".into(),
                port: 0,
                raft_port: None,
                discport: None,
            };
            tracing::info!(target: "node::p2p", %peer, max_peers, "too many peers; dropping inbound peer");
            let _ = network.remove_peer(&enode);
        }
    });
}
