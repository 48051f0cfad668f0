//! Wiring the components together.

use std::{net::SocketAddr, path::Path, sync::Arc};

use alloy_primitives::{Address, B256, U256, address, b256};
use eyre::{WrapErr, eyre};
use qrs_chain::Chain;
use qrs_chainspec::ChainSpec;
use qrs_consensus::{ConsensusEngine, DevEngine, DevMode};
use qrs_keystore::{Keystore, ScryptCost};
use qrs_rpc::{NodeInfo, RpcContext, ServeConfig};
use qrs_txpool::PoolConfig;
use tokio::sync::watch;

use crate::config::{ConsensusChoice, NodeConfig};

/// The dev account's key: the well-known first key of the "test test ... junk" mnemonic, so
/// tools and tests can sign for it (never use it on a real network).
pub const DEV_KEY: B256 = b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const DEV_ADDRESS: Address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
/// Dev chain id, as `geth --dev`.
const DEV_CHAIN_ID: u64 = 1337;

/// The dev account.
pub fn dev_address() -> Address {
    DEV_ADDRESS
}

fn genesis_path(datadir: &Path) -> std::path::PathBuf {
    datadir.join("qnode").join("genesis.json")
}

fn chaindata(datadir: &Path) -> std::path::PathBuf {
    datadir.join("chaindata")
}

/// `qnode init`: validates a genesis file, writes the genesis block and remembers the file.
pub fn init_datadir(datadir: &Path, genesis_file: &Path) -> eyre::Result<B256> {
    let json = std::fs::read_to_string(genesis_file)
        .wrap_err_with(|| format!("reading {}", genesis_file.display()))?;
    let spec = ChainSpec::from_json(&json).wrap_err("invalid genesis file")?;
    let hash = spec.genesis_hash();
    std::fs::create_dir_all(datadir.join("qnode"))?;
    Chain::open(&chaindata(datadir), spec, PoolConfig::default())?;
    std::fs::write(genesis_path(datadir), json)?;
    Ok(hash)
}

/// A running node. Dropping it stops everything.
#[derive(Debug)]
pub struct NodeHandle {
    /// The chain.
    pub chain: Chain,
    /// Bound HTTP address.
    pub http_addr: Option<SocketAddr>,
    /// Bound WebSocket address.
    pub ws_addr: Option<SocketAddr>,
    servers: Vec<jsonrpsee::server::ServerHandle>,
    shutdown: watch::Sender<bool>,
    engine: Option<tokio::task::JoinHandle<Result<(), qrs_consensus::EngineError>>>,
}

impl NodeHandle {
    /// `http://addr` of the HTTP server.
    pub fn http_url(&self) -> Option<String> {
        self.http_addr.map(|a| format!("http://{a}"))
    }

    /// `ws://addr` of the WebSocket server.
    pub fn ws_url(&self) -> Option<String> {
        self.ws_addr.map(|a| format!("ws://{a}"))
    }

    /// Stops the engine and the servers and waits for them.
    pub async fn stop(mut self) -> eyre::Result<()> {
        let _ = self.shutdown.send(true);
        for s in self.servers.drain(..) {
            let _ = s.stop();
            s.stopped().await;
        }
        if let Some(engine) = self.engine.take() {
            engine.await.map_err(|e| eyre!("engine task: {e}"))??;
        }
        Ok(())
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for s in &self.servers {
            let _ = s.stop();
        }
    }
}

fn load_spec(config: &NodeConfig) -> eyre::Result<ChainSpec> {
    if config.dev {
        let period = match config.consensus {
            ConsensusChoice::Dev { period } => period.as_secs(),
            _ => 0,
        };
        return Ok(ChainSpec::dev(
            DEV_CHAIN_ID,
            &[(DEV_ADDRESS, U256::from(10u128.pow(27)))],
            period,
        ));
    }
    let path = genesis_path(&config.datadir);
    ChainSpec::from_file(&path).wrap_err_with(|| {
        format!(
            "no usable genesis in {} (run `qnode init --datadir {} genesis.json` first)",
            path.display(),
            config.datadir.display()
        )
    })
}

fn open_keystore(config: &NodeConfig) -> eyre::Result<Arc<Keystore>> {
    let dir = config.datadir.join("keystore");
    let cost = if config.dev { ScryptCost::Light } else { ScryptCost::Standard };
    let keystore = Keystore::open_with_cost(&dir, cost).wrap_err("opening keystore")?;
    if config.dev {
        if !keystore.has_account(&DEV_ADDRESS) {
            keystore.import_raw_key(&DEV_KEY, "")?;
        }
        keystore.unlock(&DEV_ADDRESS, "", None)?;
    }
    for (address, password) in &config.unlock {
        keystore
            .unlock(address, password, None)
            .wrap_err_with(|| format!("could not unlock {address:#x}"))?;
        tracing::info!(target: "node", %address, "unlocked account");
    }
    Ok(Arc::new(keystore))
}

/// Starts a node.
pub async fn launch(config: NodeConfig) -> eyre::Result<NodeHandle> {
    let spec = load_spec(&config)?;
    let chain_id = spec.chain_id;
    let pool =
        PoolConfig { allow_unprotected: config.allow_unprotected_txs, ..PoolConfig::default() };
    let chain = Chain::open(&chaindata(&config.datadir), spec, pool)?;
    let keystore = open_keystore(&config)?;
    let node = NodeInfo {
        client_version: format!(
            "Geth/v1.10.3-stable/qnode-v{}/linux-amd64/rust",
            env!("CARGO_PKG_VERSION")
        ),
        name: "qnode".into(),
        datadir: config.datadir.display().to_string(),
        network_id: config.network_id.unwrap_or(chain_id),
        ..NodeInfo::default()
    };
    let mut servers = Vec::new();
    let mut start = async |ep: &crate::config::RpcEndpoint| -> eyre::Result<SocketAddr> {
        let ctx = RpcContext::new(chain.clone(), Some(keystore.clone()), node.clone());
        let (module, known) = qrs_rpc::build_module(ctx, &ep.apis)?;
        let mut serve = ServeConfig::new(ep.addr);
        serve.cors = ep.cors.clone();
        let (addr, handle) = qrs_rpc::serve(module, known, &serve)
            .await
            .wrap_err_with(|| format!("binding JSON-RPC server to {}", ep.addr))?;
        servers.push(handle);
        Ok(addr)
    };
    let http_addr = match &config.http {
        Some(ep) => Some(start(ep).await?),
        None => None,
    };
    // one jsonrpsee server answers HTTP and WebSocket: share it when both ask for one address
    let ws_addr = match (&config.ws, &config.http) {
        (Some(ws), Some(http))
            if ws.addr == http.addr && ws.addr.port() != 0 && ws.apis == http.apis =>
        {
            http_addr
        }
        (Some(ws), _) => Some(start(ws).await?),
        (None, _) => None,
    };

    finish(chain, config, servers, http_addr, ws_addr)
}

fn finish(
    chain: Chain,
    config: NodeConfig,
    servers: Vec<jsonrpsee::server::ServerHandle>,
    http_addr: Option<SocketAddr>,
    ws_addr: Option<SocketAddr>,
) -> eyre::Result<NodeHandle> {
    let (shutdown, rx) = watch::channel(false);
    let engine: Option<Box<dyn ConsensusEngine>> = match config.consensus {
        ConsensusChoice::Dev { period } => {
            let mode = if period.is_zero() { DevMode::Instant } else { DevMode::Period(period) };
            Some(Box::new(DevEngine::new(mode, Address::ZERO)))
        }
        ConsensusChoice::Qbft(_) | ConsensusChoice::Raft(_) => {
            return Err(eyre!("this consensus engine needs networking, which is not wired yet"));
        }
        ConsensusChoice::None => None,
    };
    // queued transactions that never become executable expire (geth: 3 hours)
    let pool = chain.pool().clone();
    let mut expiry_shutdown = rx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => { pool.expire_queued(); }
                _ = expiry_shutdown.changed() => return,
            }
        }
    });
    let engine = engine.map(|e| {
        tracing::info!(target: "node", engine = e.name(), "starting consensus engine");
        tokio::spawn(e.run(chain.clone(), rx))
    });
    Ok(NodeHandle { chain, http_addr, ws_addr, servers, shutdown, engine })
}
