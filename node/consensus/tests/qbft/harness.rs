//! A QBFT test network: N validators in-process, each with its own chain (tempdir), a real
//! qrs-network service on 127.0.0.1:0 (full mesh) and a `QbftEngine`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use qrs_chain::Chain;
use qrs_chainspec::ChainSpec;
use qrs_consensus::{
    ConsensusEngine, EngineDeps,
    qbft::{QbftEngine, QbftHandle, QbftOptions},
};
use qrs_network::{Enode, NetworkConfig, NetworkHandle, NodeKey};
use qrs_primitives::RecoveredTx;
use qrs_qbft::QbftExtra;
use qrs_txpool::PoolConfig;
use tokio::{sync::watch, task::JoinHandle};

pub const CHAIN_ID: u64 = 1337;

pub fn node_key(i: usize) -> NodeKey {
    let mut b = [0u8; 32];
    b[31] = u8::try_from(i + 1).unwrap();
    b[0] = 0x11;
    NodeKey::from_bytes(&b).unwrap()
}

pub fn funded() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&alloy_primitives::keccak256(b"qbft-test-funded")).unwrap()
}

/// A QBFT genesis (no London: GoQuorum's 15-field headers) with these validators in extraData,
/// a 1 s block period, 1 s request timeout capped at 2 s.
pub fn genesis(validators: &[Address]) -> ChainSpec {
    genesis_with(validators, serde_json::json!([]))
}

/// [`genesis`] with these `config.transitions`.
pub fn genesis_with(validators: &[Address], transitions: serde_json::Value) -> ChainSpec {
    let mut sorted = validators.to_vec();
    sorted.sort();
    let extra =
        QbftExtra { vanity: Bytes::from(vec![0u8; 32]), validators: sorted, ..Default::default() };
    let json = serde_json::json!({
        "config": {
            "chainId": CHAIN_ID, "isQuorum": true,
            "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0,
            "istanbulBlock": 0,
            "qbft": {
                "epochLength": 30000, "blockPeriodSeconds": 1, "requestTimeoutSeconds": 1,
                "maxRequestTimeoutSeconds": 2, "policy": 0, "ceil2Nby3Block": 0
            },
            "transitions": transitions
        },
        "nonce": "0x0", "timestamp": "0x0", "gasLimit": "0x1c9c380", "difficulty": "0x1",
        "mixHash": qrs_qbft::ISTANBUL_DIGEST.to_string(),
        "coinbase": "0x0000000000000000000000000000000000000000",
        "extraData": extra.to_extra_bytes().to_string(),
        "alloc": { funded().address().to_string(): { "balance": "0x3635C9ADC5DEA00000" } }
    });
    ChainSpec::from_json(&json.to_string()).unwrap()
}

pub fn transfer(nonce: u64) -> RecoveredTx {
    let signer = funded();
    let tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(1u64),
        input: Bytes::new(),
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    RecoveredTx::new_unchecked(env, signer.address())
}

pub fn options() -> QbftOptions {
    QbftOptions { block_period_secs: Some(1), request_timeout_ms: Some(1000), ..Default::default() }
}

/// One running validator.
pub struct Node {
    pub key: NodeKey,
    pub dir: PathBuf,
    pub chain: Chain,
    pub network: NetworkHandle,
    pub handle: QbftHandle,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), qrs_consensus::EngineError>>,
    sync: qrs_sync::SyncHandle,
    requests: qrs_sync::ChainRequestHandler,
}

impl Node {
    pub async fn start(key: NodeKey, dir: PathBuf, spec: ChainSpec, peers: &[Enode]) -> Self {
        let chain = Chain::open(&dir.join("chain"), spec, PoolConfig::default()).unwrap();
        let mut cfg = NetworkConfig::new("127.0.0.1:0".parse().unwrap());
        cfg.dial_backoff_initial = Duration::from_millis(50);
        cfg.dial_backoff_max = Duration::from_millis(500);
        cfg.static_nodes = peers.to_vec();
        let requests = qrs_sync::ChainRequestHandler::new(chain.clone(), cfg.max_response_bytes);
        cfg.request_handler = Some(Arc::new(requests.clone()));
        let (network, _) = qrs_network::spawn(key.clone(), cfg).await.unwrap();
        let deps = EngineDeps {
            chain: chain.clone(),
            network: network.clone(),
            node_key: key.clone(),
            datadir: dir.clone(),
        };
        let engine = QbftEngine::new(options(), deps).unwrap();
        let handle = engine.handle();
        let verifier = engine.verifier();
        let (shutdown, rx) = watch::channel(false);
        let sync =
            qrs_sync::spawn(chain.clone(), network.clone(), Arc::new(verifier.clone()), rx.clone());
        let task = tokio::spawn(Box::new(engine).run(chain.clone(), rx));
        Self { key, dir, chain, network, handle, shutdown, task, sync, requests }
    }

    pub fn enode(&self) -> Enode {
        self.network.local_enode()
    }

    pub fn head(&self) -> (u64, B256) {
        let h = self.chain.head();
        (h.header.number, h.hash)
    }

    /// Stops the engine and the network; returns what a restart needs.
    pub async fn stop(self) -> (NodeKey, PathBuf) {
        let _ = self.shutdown.send(true);
        let res = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        let engine_result = res.expect("engine stops").expect("engine task");
        assert!(engine_result.is_ok(), "engine ended with {engine_result:?}");
        tokio::time::timeout(Duration::from_secs(10), self.sync.join()).await.expect("sync stops");
        self.requests.close();
        self.network.shutdown();
        (self.key, self.dir)
    }
}

/// Starts `n` validators (keys 0..n) in a full mesh; returns them and the tempdir holding
/// their data directories.
pub async fn start_network(n: usize, validators: &[Address]) -> (Vec<Node>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let spec = genesis(validators);
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..n {
        let peers: Vec<Enode> = nodes.iter().map(Node::enode).collect();
        let node =
            Node::start(node_key(i), tmp.path().join(format!("n{i}")), spec.clone(), &peers).await;
        nodes.push(node);
    }
    (nodes, tmp)
}

/// Polls `cond` every 50 ms for up to `secs`.
pub async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
