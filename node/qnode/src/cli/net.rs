//! Peer-to-peer flags, as geth / GoQuorum spell them.

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;
use eyre::WrapErr;
use qrs_network::{Enode, NodeKey};

use crate::config::NetworkOptions;

/// geth's default p2p port.
pub const DEFAULT_P2P_PORT: u16 = 30303;

/// p2p networking flags.
#[derive(Debug, Clone, Default, Args)]
pub struct NetFlags {
    /// p2p listening port (default 30303; 0 picks a free port). Without --dev the node always
    /// listens; with --dev only when this flag is given (geth's --dev has no p2p).
    #[arg(long)]
    pub port: Option<u16>,
    /// p2p listen IP address.
    #[arg(long = "p2p.addr", default_value = "0.0.0.0")]
    pub p2p_addr: String,
    /// P2P node key file (default: `<datadir>/geth/nodekey`, generated on first start).
    #[arg(long)]
    pub nodekey: Option<PathBuf>,
    /// P2P node key as 64 hex characters.
    #[arg(long)]
    pub nodekeyhex: Option<String>,
    /// Disables peer discovery (accepted: qnode only ever dials static nodes and bootnodes).
    #[arg(long)]
    pub nodiscover: bool,
    /// Maximum number of connected peers.
    #[arg(long, default_value_t = 50)]
    pub maxpeers: usize,
    /// Only peers listed in `<datadir>/permissioned-nodes.json` may connect, both ways.
    #[arg(long)]
    pub permissioned: bool,
    /// Comma-separated enode URLs, dialled like `static-nodes.json` entries.
    #[arg(long, default_value = "")]
    pub bootnodes: String,
}

impl NetFlags {
    /// The network options, or `None` when the node runs without p2p (`--dev` without `--port`).
    pub fn options(&self, dev: bool) -> eyre::Result<Option<NetworkOptions>> {
        if dev && self.port.is_none() {
            return Ok(None);
        }
        let port = self.port.unwrap_or(DEFAULT_P2P_PORT);
        let listen: SocketAddr = format!("{}:{port}", self.p2p_addr)
            .parse()
            .wrap_err_with(|| format!("bad p2p listen address {}:{port}", self.p2p_addr))?;
        let node_key = match (&self.nodekey, &self.nodekeyhex) {
            (Some(_), Some(_)) => eyre::bail!("--nodekey and --nodekeyhex are mutually exclusive"),
            (Some(file), None) => Some(
                NodeKey::load(file)
                    .wrap_err_with(|| format!("--nodekey: reading {}", file.display()))?,
            ),
            (None, Some(hex)) => Some(NodeKey::from_hex(hex).wrap_err("--nodekeyhex")?),
            (None, None) => None,
        };
        let bootnodes = super::split_list(&self.bootnodes)
            .iter()
            .map(|url| Enode::parse(url).wrap_err("--bootnodes"))
            .collect::<eyre::Result<Vec<_>>>()?;
        Ok(Some(NetworkOptions {
            listen,
            node_key,
            extra_static_nodes: bootnodes,
            permissioned: self.permissioned,
            max_peers: self.maxpeers,
            advertised_host: None,
        }))
    }
}
