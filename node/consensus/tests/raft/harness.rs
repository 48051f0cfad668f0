//! A Raft test cluster: nodes in-process, each with its own chain (tempdir), a real qrs-network
//! service on 127.0.0.1 and a `RaftEngine`; membership from a `static-nodes.json` written into
//! every data directory, as an operator would.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use qrs_chain::Chain;
use qrs_chainspec::ChainSpec;
use qrs_consensus::{
    ConsensusEngine, EngineDeps, EngineError,
    raft::{RaftEngine, RaftHandle, RaftOptions, RaftVerifier},
};
use qrs_network::{NetworkConfig, NetworkHandle, NodeKey};
use qrs_primitives::RecoveredTx;
use qrs_txpool::PoolConfig;
use tokio::{sync::watch, task::JoinHandle};

pub const CHAIN_ID: u64 = 1337;

/// A fresh node key. Never a fixed one: tests run in parallel, and a node of one test that
/// dials a port another test's node has since taken must not find the identity it expects.
pub fn node_key() -> NodeKey {
    NodeKey::generate()
}

pub fn funded() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&alloy_primitives::keccak256(b"raft-test-funded")).unwrap()
}

pub fn spec() -> ChainSpec {
    ChainSpec::dev(CHAIN_ID, &[(funded().address(), U256::from(10u128.pow(24)))], 0)
}

/// A signed transfer of 1 wei from the funded account.
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

pub fn options() -> RaftOptions {
    RaftOptions::default()
}

/// The enode a member is known by: `raftport` = its p2p port (only an identifier here).
pub fn enode_url(key: &NodeKey, addr: SocketAddr) -> String {
    format!(
        "enode://{}@127.0.0.1:{}?discport=0&raftport={}",
        alloy_primitives::hex::encode(key.enode_id()),
        addr.port(),
        addr.port()
    )
}

/// A node's identity and data directory; survives a stop.
#[derive(Debug, Clone)]
pub struct NodeSetup {
    pub key: NodeKey,
    pub dir: PathBuf,
    pub addr: SocketAddr,
}

/// One running node.
pub struct Node {
    pub setup: NodeSetup,
    pub chain: Chain,
    pub network: NetworkHandle,
    pub handle: RaftHandle,
    pub verifier: RaftVerifier,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), EngineError>>,
}

async fn spawn_network(key: &NodeKey, port: u16) -> (NetworkHandle, SocketAddr) {
    let mut cfg = NetworkConfig::new(SocketAddr::from(([127, 0, 0, 1], port)));
    cfg.dial_backoff_initial = Duration::from_millis(50);
    cfg.dial_backoff_max = Duration::from_millis(500);
    match qrs_network::spawn(key.clone(), cfg.clone()).await {
        Ok(r) => r,
        // The old port may still be held: take a new one (members dial us back on theirs).
        Err(_) if port != 0 => {
            cfg.listen = SocketAddr::from(([127, 0, 0, 1], 0));
            qrs_network::spawn(key.clone(), cfg).await.unwrap()
        }
        Err(e) => panic!("network: {e}"),
    }
}

impl Node {
    /// Binds the network of a node that is not running yet (its port goes into enodes).
    pub async fn prepare(key: NodeKey, dir: PathBuf) -> (NodeSetup, NetworkHandle) {
        std::fs::create_dir_all(&dir).unwrap();
        let (network, addr) = spawn_network(&key, 0).await;
        (NodeSetup { key, dir, addr }, network)
    }

    /// Starts the engine of a prepared node.
    pub async fn start(setup: NodeSetup, network: NetworkHandle, options: RaftOptions) -> Self {
        let chain = Chain::open(&setup.dir.join("chain"), spec(), PoolConfig::default()).unwrap();
        let deps = EngineDeps {
            chain: chain.clone(),
            network: network.clone(),
            node_key: setup.key.clone(),
            datadir: setup.dir.clone(),
        };
        let engine = RaftEngine::new(options, deps).unwrap();
        let handle = engine.handle();
        let verifier = engine.verifier();
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(Box::new(engine).run(chain.clone(), rx));
        Self { setup, chain, network, handle, verifier, shutdown, task }
    }

    /// Restarts a stopped node from its data directory.
    pub async fn restart(setup: NodeSetup, options: RaftOptions) -> Self {
        let (network, addr) = spawn_network(&setup.key, setup.addr.port()).await;
        Self::start(NodeSetup { addr, ..setup }, network, options).await
    }

    pub fn enode(&self) -> String {
        enode_url(&self.setup.key, self.setup.addr)
    }

    pub fn head(&self) -> (u64, B256, B256) {
        let h = self.chain.head();
        (h.header.number, h.hash, h.header.state_root)
    }

    pub fn is_mined(&self, tx: &B256) -> bool {
        self.chain.reader().unwrap().tx_location(tx).unwrap().is_some()
    }

    /// Stops the engine and the network; returns what a restart needs.
    pub async fn stop(self) -> NodeSetup {
        let _ = self.shutdown.send(true);
        let res = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        let engine_result = res.expect("engine stops").expect("engine task");
        assert!(engine_result.is_ok(), "engine ended with {engine_result:?}");
        self.network.shutdown();
        drop(self.chain);
        // Let the network task release its connections before the data dir is reopened.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.setup
    }
}

/// Writes `static-nodes.json` (these enodes, in raft id order) into `dir`.
pub fn write_static_nodes(dir: &std::path::Path, enodes: &[String]) {
    std::fs::write(dir.join("static-nodes.json"), serde_json::to_string(enodes).unwrap()).unwrap();
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// Starts `n` nodes; raft id i+1 = node i.
pub async fn start_cluster(n: usize, tmp: &std::path::Path) -> Vec<Node> {
    start_cluster_with(n, tmp, options()).await
}

/// [`start_cluster`] with engine options.
pub async fn start_cluster_with(n: usize, tmp: &std::path::Path, opts: RaftOptions) -> Vec<Node> {
    init_tracing();
    let mut prepared = Vec::new();
    for i in 0..n {
        prepared.push(Node::prepare(node_key(), tmp.join(format!("n{i}"))).await);
    }
    let enodes: Vec<String> = prepared.iter().map(|(s, _)| enode_url(&s.key, s.addr)).collect();
    let mut nodes = Vec::new();
    for (setup, network) in prepared {
        write_static_nodes(&setup.dir, &enodes);
        nodes.push(Node::start(setup, network, opts.clone()).await);
    }
    nodes
}

/// Polls `cond` every 20 ms for up to `secs`.
pub async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for exactly one minter among `nodes`; returns its index.
pub async fn wait_leader(nodes: &[&Node], secs: u64) -> usize {
    let mut found = None;
    eventually(secs, "a single minter that every node agrees on", || {
        let minters: Vec<usize> =
            (0..nodes.len()).filter(|i| nodes[*i].handle.role() == "minter").collect();
        let leaders: Vec<u16> = nodes.iter().map(|n| n.handle.status().leader).collect();
        if minters.len() == 1 && leaders.iter().all(|l| *l == leaders[0] && *l != 0) {
            found = Some(minters[0]);
            true
        } else {
            false
        }
    })
    .await;
    found.unwrap()
}

/// Submits transfers with nonces `nonces` to `node`; returns their hashes.
pub fn submit(node: &Node, nonces: std::ops::Range<u64>) -> Vec<B256> {
    nonces.map(|n| node.chain.submit(transfer(n)).unwrap()).collect()
}

/// Waits until every node has the same head as the first (and returns it).
pub async fn converge(nodes: &[&Node], secs: u64) -> (u64, B256, B256) {
    eventually(secs, "all heads equal", || nodes.iter().all(|n| n.head() == nodes[0].head())).await;
    nodes[0].head()
}

/// Waits until every node has every transaction of `txs` in a block at or below its head and
/// all heads are equal (a receipt can show a moment before the head moves), returns the head.
pub async fn settle(nodes: &[&Node], txs: &[B256], secs: u64) -> (u64, B256, B256) {
    eventually(secs, "all transactions in every head, heads equal", || {
        nodes.iter().all(|n| {
            let head = n.head().0;
            let reader = n.chain.reader().unwrap();
            txs.iter()
                .all(|h| reader.tx_location(h).unwrap().is_some_and(|l| l.block_number <= head))
        }) && nodes.iter().all(|n| n.head() == nodes[0].head())
    })
    .await;
    nodes[0].head()
}

/// Checks that every block after genesis carries transactions and a valid Raft seal, and that
/// no transaction appears twice; returns the number of transactions.
pub fn check_chain(node: &Node) -> usize {
    let reader = node.chain.reader().unwrap();
    let head = node.chain.head().header.number;
    let mut seen = std::collections::HashSet::new();
    for n in 1..=head {
        let block = reader.block(n).unwrap().unwrap();
        assert!(!block.transactions.is_empty(), "block {n} is empty");
        for tx in &block.transactions {
            assert!(seen.insert(*tx.tx_hash()), "transaction {} mined twice", tx.tx_hash());
        }
        use qrs_consensus::BlockVerifier;
        node.verifier.verify_header(&node.chain, &block.header).expect("raft seal verifies");
    }
    seen.len()
}
