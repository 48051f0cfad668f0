//! Wiring the components together.

use std::{net::SocketAddr, path::Path, sync::Arc};

use alloy_primitives::{Address, B256, U256, address, b256};
use eyre::WrapErr;
use qrs_chain::{CacheConfig, Chain};
use qrs_chainspec::ChainSpec;
use qrs_consensus::EngineDeps;
use qrs_keystore::{Keystore, ScryptCost};
use qrs_network::NetworkConfig;
use qrs_rpc::{NodeInfo, RpcContext, ServeConfig};
use qrs_sync::ChainRequestHandler;
use qrs_txpool::PoolConfig;
use tokio::{runtime::Handle, sync::watch};

use crate::{
    config::{ConsensusChoice, NodeConfig, RpcEndpoint},
    handle::NodeHandle,
};

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

pub(crate) fn genesis_path(datadir: &Path) -> std::path::PathBuf {
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

/// Starts a node: chain, keystore, p2p network (when configured, with the block-serving
/// handler), the engine's verifier and block sync, JSON-RPC servers, then block production.
pub async fn launch(config: NodeConfig) -> eyre::Result<NodeHandle> {
    let spec = load_spec(&config)?;
    if config.privacy_marker && spec.config.privacy_precompile_block.is_none() {
        // GoQuorum's check (eth/backend.go), word for word
        return Err(eyre::eyre!(
            "Privacy marker transactions require privacyPrecompileBlock to be set in genesis.json"
        ));
    }
    let chain_id = spec.chain_id;
    let pool = config.txpool.clone();
    let ptm = connect_ptm(config.ptm.as_ref()).await?;
    let cache = CacheConfig { keep_history: config.archive, ..CacheConfig::default() };
    let chain = Chain::open_with_cache(&chaindata(&config.datadir), spec, pool, cache)?;
    if let Some(client) = &ptm {
        let source = crate::private::PtmPayloads::new(client.clone(), Handle::current());
        chain.set_private_payloads(Arc::new(source));
    }
    let keystore = open_keystore(&config)?;
    let handler = config.network.as_ref().map(|_| {
        ChainRequestHandler::new(chain.clone(), NetworkConfig::default().max_response_bytes)
    });
    let started = start(&config, &chain, keystore, handler.clone(), chain_id, ptm).await;
    if started.is_err()
        && let Some(h) = &handler
    {
        h.close();
    }
    started
}

async fn start(
    config: &NodeConfig,
    chain: &Chain,
    keystore: Arc<Keystore>,
    handler: Option<ChainRequestHandler>,
    chain_id: u64,
    ptm: Option<qrs_ptm::PtmClient>,
) -> eyre::Result<NodeHandle> {
    let p2p = match (&config.network, &handler) {
        (Some(opts), Some(h)) => {
            let h: Arc<dyn qrs_network::RequestHandler> = Arc::new(h.clone());
            Some(crate::p2p::start(opts, &config.datadir, Some(h)).await?)
        }
        _ => None,
    };
    let (shutdown, rx) = watch::channel(false);
    let mut node = NodeHandle::new(chain.clone(), shutdown, handler);
    if let Some(p) = &p2p {
        node.network = Some(p.handle.clone());
        node.p2p_addr = Some(p.addr);
    }
    let deps = p2p.as_ref().map(|p| EngineDeps {
        chain: chain.clone(),
        network: p.handle.clone(),
        node_key: p.key.clone(),
        datadir: config.datadir.clone(),
    });
    let built = crate::engines::build(&config.consensus, chain, deps)?;
    node.sync = p2p.as_ref().map(|p| {
        qrs_sync::spawn(chain.clone(), p.handle.clone(), built.verifier.clone(), rx.clone())
    });

    let info = node_info(config, chain_id, p2p.as_ref());
    let make_ctx = || {
        let mut ctx = RpcContext::new(chain.clone(), Some(keystore.clone()), info.clone());
        ctx.network = node.network.clone();
        ctx.sync = node.sync.clone();
        ctx.ptm = ptm.clone();
        ctx.privacy_marker = config.privacy_marker;
        if let Some(configure) = &built.configure_rpc {
            configure(&mut ctx);
        }
        ctx
    };
    let mut servers = Vec::new();
    let http_addr = match &config.http {
        Some(ep) => Some(serve_rpc(make_ctx(), ep, &mut servers).await?),
        None => None,
    };
    // one jsonrpsee server answers HTTP and WebSocket: share it when both ask for one address
    let ws_addr = match (&config.ws, &config.http) {
        (Some(ws), Some(http))
            if ws.addr == http.addr && ws.addr.port() != 0 && ws.apis == http.apis =>
        {
            http_addr
        }
        (Some(ws), _) => Some(serve_rpc(make_ctx(), ws, &mut servers).await?),
        (None, _) => None,
    };
    node.http_addr = http_addr;
    node.ws_addr = ws_addr;
    node.servers = servers;

    if config.emit_checkpoints {
        qrs_metrics::checkpoint::enable(true);
        crate::metrics::spawn_block_checkpoints(chain, rx.clone());
    }
    if !config.metrics.is_empty() {
        let sources = crate::metrics::Sources::new(
            chain.clone(),
            node.network.clone(),
            chaindata(&config.datadir),
        );
        node.metrics_addrs = crate::metrics::serve(&config.metrics, Arc::new(sources), &rx).await?;
    }
    spawn_pool_expiry(chain, rx.clone());
    node.engine = built.engine.map(|e| {
        tracing::info!(target: "node", engine = e.name(), "starting consensus engine");
        tokio::spawn(e.run(chain.clone(), rx))
    });
    Ok(node)
}

/// Connects to the configured transaction manager (`/upcheck`, version negotiation); a TM
/// that is configured but down stops the start.
async fn connect_ptm(
    config: Option<&qrs_ptm::PtmConfig>,
) -> eyre::Result<Option<qrs_ptm::PtmClient>> {
    let Some(config) = config else { return Ok(None) };
    let client = qrs_ptm::PtmClient::connect(config).await.wrap_err_with(|| {
        format!("private transaction manager at {} is not available", config.endpoint)
    })?;
    Ok(Some(client))
}

fn node_info(config: &NodeConfig, chain_id: u64, p2p: Option<&crate::p2p::Started>) -> NodeInfo {
    let mut info = NodeInfo {
        client_version: format!(
            "Geth/v1.10.3-stable/qnode-v{}/linux-amd64/rust",
            env!("CARGO_PKG_VERSION")
        ),
        name: "qnode".into(),
        datadir: config.datadir.display().to_string(),
        network_id: config.network_id.unwrap_or(chain_id),
        ..NodeInfo::default()
    };
    if let Some(p) = p2p {
        let enode = p.handle.local_enode();
        info.enode = enode.to_string();
        // geth's node id: keccak256 of the public key
        info.id = alloy_primitives::hex::encode(alloy_primitives::keccak256(enode.id));
        info.listen_addr = p.addr.to_string();
    }
    info
}

async fn serve_rpc(
    ctx: RpcContext,
    ep: &RpcEndpoint,
    servers: &mut Vec<jsonrpsee::server::ServerHandle>,
) -> eyre::Result<SocketAddr> {
    let (module, known) = qrs_rpc::build_module(ctx, &ep.apis)?;
    let mut serve = ServeConfig::new(ep.addr);
    serve.cors = ep.cors.clone();
    let (addr, handle) = qrs_rpc::serve(module, known, &serve)
        .await
        .wrap_err_with(|| format!("binding JSON-RPC server to {}", ep.addr))?;
    servers.push(handle);
    Ok(addr)
}

/// Queued transactions that never become executable expire (geth: 3 hours).
fn spawn_pool_expiry(chain: &Chain, mut shutdown: watch::Receiver<bool>) {
    let pool = chain.pool().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => { pool.expire_queued(); }
                _ = shutdown.changed() => return,
            }
        }
    });
}
