//! Networks of `qnode` processes for multi-node tests: QBFT or Raft, N nodes on loopback, each
//! with its own node key, data directory and ports, peered through `static-nodes.json` as
//! GoQuorum does; any node can be stopped (SIGTERM), killed (SIGKILL) and restarted on the same
//! data directory and ports, so its peers re-dial it.
//!
//! The genesis is derived from GoQuorum's quickstart genesis (read in place from
//! `../shared/fixtures`), with this network's validators in `extraData`, a short block period, and
//! the harness's dev account funded.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, eyre};
use serde_json::{Value, json};

use crate::{
    process::{QNode, QNodeOptions, run_init},
    qtm::Qtm,
    rpc::Rpc,
    wallet::DEV_ADDRESS,
};

/// The consensus a test network runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consensus {
    /// QBFT with this block period (seconds) and round-0 request timeout (seconds).
    Qbft {
        /// `blockperiodseconds`.
        block_period: u64,
        /// `requesttimeoutseconds`.
        request_timeout: u64,
    },
    /// Raft with this `--raftblocktime` (ms).
    Raft {
        /// `--raftblocktime`.
        block_time_ms: u64,
    },
}

/// One member of a test network.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    /// Node key (also the validator key).
    pub key: B256,
    /// Its address (the validator address).
    pub address: Address,
    /// The 64-byte public key in hex (the enode id).
    pub enode_id: String,
    /// devp2p/libp2p TCP port.
    pub p2p_port: u16,
    /// Raft port (identifies the node in Raft membership).
    pub raft_port: u16,
}

impl NodeIdentity {
    fn random() -> eyre::Result<Self> {
        let signer = PrivateKeySigner::random();
        let point = signer.credential().verifying_key().to_encoded_point(false);
        let enode_id = hex::encode(&point.as_bytes()[1..]);
        Ok(Self {
            key: B256::from_slice(&signer.credential().to_bytes()),
            address: signer.address(),
            enode_id,
            p2p_port: free_port()?,
            raft_port: free_port()?,
        })
    }

    /// `enode://<id>@127.0.0.1:<port>?discport=0[&raftport=<raft>]`.
    pub fn enode(&self, raft: bool) -> String {
        let mut e = format!("enode://{}@127.0.0.1:{}?discport=0", self.enode_id, self.p2p_port);
        if raft {
            e.push_str(&format!("&raftport={}", self.raft_port));
        }
        e
    }
}

pub use crate::ports::free_port;

/// The quickstart's fixture directory, read in place.
pub fn quickstart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/goquorum-quickstart")
}

/// A network of qnode processes. Dropping it kills them all.
#[derive(Debug)]
pub struct TestNet {
    /// The consensus it runs.
    pub consensus: Consensus,
    /// Identities, by index.
    pub ids: Vec<NodeIdentity>,
    nodes: Vec<QNode>,
    /// Transaction managers: `tms[i]` serves node `i` (declared after the nodes, so they stop
    /// after them).
    pub tms: Vec<Qtm>,
    dir: tempfile::TempDir,
}

/// `qnode` flags for throughput benches: a pool large enough for several blocks at thousands of
/// transactions per second (geth's default 4,096 pending slots is smaller than two blocks there,
/// and a full pool breaks senders' nonce sequences), and info-level logs.
pub fn bench_node_args() -> Vec<String> {
    [
        "--txpool.globalslots",
        "32768",
        "--txpool.accountslots",
        "256",
        "--txpool.globalqueue",
        "8192",
        "--verbosity",
        "3",
    ]
    .map(String::from)
    .to_vec()
}

impl TestNet {
    /// Starts `n` nodes, all validators (QBFT) or all Raft peers, and waits until each has at
    /// least `n - 1` peers.
    pub fn start(consensus: Consensus, n: usize) -> eyre::Result<Self> {
        Self::start_with_validators(consensus, n, n)
    }

    /// Starts `n` nodes of which the first `validators` are in the genesis validator set (QBFT;
    /// the others follow, and may be voted in).
    pub fn start_with_validators(
        consensus: Consensus,
        n: usize,
        validators: usize,
    ) -> eyre::Result<Self> {
        Self::start_full(consensus, n, validators, 0)
    }

    /// Starts `n` nodes, the first `validators` of them validators, and gives each of the first
    /// `tms` nodes its own `qtm` (node `--ptm.url`), the TMs peered with each other.
    pub fn start_full(
        consensus: Consensus,
        n: usize,
        validators: usize,
        tms: usize,
    ) -> eyre::Result<Self> {
        Self::start_custom(consensus, n, validators, tms, |_| {})
    }

    /// [`Self::start_full`] with a hook that edits the genesis JSON first (extra `alloc`
    /// accounts, a larger `gasLimit`, ...).
    pub fn start_custom(
        consensus: Consensus,
        n: usize,
        validators: usize,
        tms: usize,
        edit_genesis: impl FnOnce(&mut Value),
    ) -> eyre::Result<Self> {
        Self::start_with_args(consensus, n, validators, tms, edit_genesis, &[])
    }

    /// [`Self::start_custom`] with extra `qnode` flags for every node (e.g. `--txpool.*` limits
    /// or `--verbosity 3`, which replaces the harness's default `--verbosity 4`).
    pub fn start_with_args(
        consensus: Consensus,
        n: usize,
        validators: usize,
        tms: usize,
        edit_genesis: impl FnOnce(&mut Value),
        node_args: &[String],
    ) -> eyre::Result<Self> {
        let ids = (0..n).map(|_| NodeIdentity::random()).collect::<eyre::Result<Vec<_>>>()?;
        let dir = tempfile::tempdir()?;
        let mut genesis = genesis_json(consensus, &ids[..validators.min(n)])?;
        edit_genesis(&mut genesis);
        let genesis_path = dir.path().join("genesis.json");
        std::fs::write(&genesis_path, serde_json::to_vec_pretty(&genesis)?)?;
        let mut qtms: Vec<Qtm> = Vec::new();
        for i in 0..tms.min(n) {
            let peers: Vec<String> = qtms.first().map(|t| vec![t.p2p.clone()]).unwrap_or_default();
            qtms.push(Qtm::start(&dir.path().join(format!("tm{i}")), &peers)?);
        }
        let mut net = Self { consensus, ids, tms: qtms, nodes: Vec::new(), dir };
        for i in 0..n {
            let node = net.spawn_node(i, &genesis_path, &net.ids.clone(), node_args)?;
            net.nodes.push(node);
        }
        net.wait_peered(n.saturating_sub(1), Duration::from_secs(30))?;
        Ok(net)
    }

    /// Node `i`'s data directory.
    pub fn datadir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("node{i}"))
    }

    /// Initialises node `i`'s data directory: genesis, static nodes, node key.
    fn init_datadir(
        &self,
        i: usize,
        genesis: &Path,
        static_ids: &[NodeIdentity],
    ) -> eyre::Result<PathBuf> {
        let datadir = self.datadir(i);
        std::fs::create_dir_all(&datadir)?;
        let out = run_init(&datadir, genesis)?;
        if !out.status.success() {
            return Err(eyre!("qnode init failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let raft = matches!(self.consensus, Consensus::Raft { .. });
        let statics: Vec<String> = static_ids.iter().map(|s| s.enode(raft)).collect();
        std::fs::write(datadir.join("static-nodes.json"), serde_json::to_vec_pretty(&statics)?)?;
        std::fs::write(datadir.join("nodekey"), hex::encode(self.ids[i].key))?;
        Ok(datadir)
    }

    /// Stops node `i`, replaces its data directory with a freshly initialised one (same
    /// genesis, node key, static nodes and flags: its chain, state and private state are gone)
    /// and starts it again, so it syncs and re-executes every block from its peers.
    pub fn restart_fresh(&mut self, i: usize) -> eyre::Result<()> {
        if self.nodes[i].is_running() {
            self.stop(i)?;
        }
        std::fs::remove_dir_all(self.datadir(i))?;
        let genesis = self.dir.path().join("genesis.json");
        self.init_datadir(i, &genesis, &self.ids.clone())?;
        self.nodes[i].restart()
    }

    /// Initialises node `i`'s data directory (genesis, node key, static nodes) and starts it.
    fn spawn_node(
        &self,
        i: usize,
        genesis: &Path,
        static_ids: &[NodeIdentity],
        extra_args: &[String],
    ) -> eyre::Result<QNode> {
        let id = &self.ids[i];
        let datadir = self.init_datadir(i, genesis, static_ids)?;
        let nodekey = datadir.join("nodekey");
        let mut opts = QNodeOptions::chain(&datadir)
            .arg("--nodekey")
            .arg(nodekey.display().to_string())
            .arg("--port")
            .arg(id.p2p_port.to_string())
            .arg("--nodiscover");
        if !extra_args.iter().any(|a| a == "--verbosity") {
            opts = opts.arg("--verbosity").arg("4");
        }
        opts.ws = true;
        opts = match self.consensus {
            Consensus::Qbft { .. } => opts.mine(),
            Consensus::Raft { block_time_ms } => opts
                .arg("--raft")
                .arg("--raftport")
                .arg(id.raft_port.to_string())
                .arg("--raftblocktime")
                .arg(block_time_ms.to_string()),
        };
        if let Some(tm) = self.tms.get(i) {
            opts = opts.arg("--ptm.url").arg(tm.q2t.clone());
        }
        for a in extra_args {
            opts = opts.arg(a.clone());
        }
        QNode::start(opts).wrap_err_with(|| format!("starting node {i}"))
    }

    /// A new identity for a node that will join later (its enode is needed for
    /// `raft_addLearner` / `raft_addPeer` before it starts).
    pub fn new_identity(&mut self) -> eyre::Result<NodeIdentity> {
        let id = NodeIdentity::random()?;
        self.ids.push(id.clone());
        Ok(id)
    }

    /// Starts the node of the last [`Self::new_identity`] with the same genesis, every known node
    /// in its `static-nodes.json`, and `extra_args` (e.g. `--raftjoinexisting 4`). Returns its index.
    pub fn start_new_node(&mut self, extra_args: &[String]) -> eyre::Result<usize> {
        let i = self.nodes.len();
        if i >= self.ids.len() {
            return Err(eyre!("call new_identity first"));
        }
        let genesis = self.dir.path().join("genesis.json");
        let node = self.spawn_node(i, &genesis, &self.ids.clone(), extra_args)?;
        self.nodes.push(node);
        Ok(i)
    }

    /// Lines of every node's log containing any of `needles` (for failure reports).
    pub fn log_lines(&self, needles: &[&str]) -> String {
        let mut out = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let text = std::fs::read_to_string(n.options().log_path()).unwrap_or_default();
            for line in text.lines().filter(|l| needles.iter().any(|k| l.contains(k))) {
                out.push_str(&format!("node{i}: {line}\n"));
            }
        }
        out
    }

    /// Number of nodes (running or not).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the network has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i`.
    pub fn node(&mut self, i: usize) -> &mut QNode {
        &mut self.nodes[i]
    }

    /// A JSON-RPC client for node `i`.
    pub fn rpc(&self, i: usize) -> eyre::Result<Rpc> {
        self.nodes[i].rpc()
    }

    /// Indexes of the nodes that are running.
    pub fn running(&mut self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].is_running()).collect()
    }

    /// SIGTERM node `i` and wait for it to exit.
    pub fn stop(&mut self, i: usize) -> eyre::Result<()> {
        self.nodes[i].terminate().map(|_| ())
    }

    /// SIGKILL node `i`.
    pub fn kill(&mut self, i: usize) -> eyre::Result<()> {
        self.nodes[i].kill()
    }

    /// Restarts node `i` on the same data directory and ports.
    pub fn restart(&mut self, i: usize) -> eyre::Result<()> {
        self.nodes[i].restart()
    }

    /// Waits until every running node has at least `min_peers` peers.
    pub fn wait_peered(&mut self, min_peers: usize, timeout: Duration) -> eyre::Result<()> {
        let running = self.running();
        for i in running {
            let rpc = self.rpc(i)?;
            wait_for(timeout, &format!("node {i} to reach {min_peers} peers"), || {
                let v = rpc.call("net_peerCount", json!([])).ok()?;
                (crate::rpc::quantity(&v).ok()? as usize >= min_peers).then_some(())
            })?;
        }
        Ok(())
    }

    /// Head `(number, hash, stateRoot)` of node `i`.
    pub fn head(&self, i: usize) -> eyre::Result<(u64, B256, B256)> {
        let block = self.rpc(i)?.req::<Value>("eth_getBlockByNumber", json!(["latest", false]))?;
        let number = crate::rpc::quantity(&block["number"])?;
        let hash: B256 = serde_json::from_value(block["hash"].clone())?;
        let root: B256 = serde_json::from_value(block["stateRoot"].clone())?;
        Ok((number, hash, root))
    }

    /// Waits until every running node's head is at least `number`.
    pub fn wait_for_height(&mut self, number: u64, timeout: Duration) -> eyre::Result<()> {
        let running = self.running();
        for i in running {
            let rpc = self.rpc(i)?;
            wait_for(timeout, &format!("node {i} to reach block {number}"), || {
                (rpc.block_number().ok()? >= number).then_some(())
            })?;
        }
        Ok(())
    }

    /// Checks that all running nodes agree on every block up to the lowest head (same hash and
    /// state root at each height: no fork). Returns that height.
    pub fn assert_no_fork(&mut self) -> eyre::Result<u64> {
        let running = self.running();
        let rpcs: Vec<Rpc> = running.iter().map(|&i| self.rpc(i)).collect::<Result<_, _>>()?;
        let lowest = rpcs.iter().map(Rpc::block_number).collect::<Result<Vec<_>, _>>()?;
        let lowest = lowest.into_iter().min().unwrap_or_default();
        for n in 0..=lowest {
            let blocks: Vec<Value> =
                rpcs.iter().map(|r| r.block(n, false)).collect::<Result<_, _>>()?;
            for (k, b) in blocks.iter().enumerate().skip(1) {
                if b["hash"] != blocks[0]["hash"] || b["stateRoot"] != blocks[0]["stateRoot"] {
                    return Err(eyre!(
                        "fork at block {n}: node {} has {} / {}, node {} has {} / {}",
                        running[0],
                        blocks[0]["hash"],
                        blocks[0]["stateRoot"],
                        running[k],
                        b["hash"],
                        b["stateRoot"]
                    ));
                }
            }
        }
        Ok(lowest)
    }
}

/// Polls `f` every 100 ms until it returns `Some`, or fails after `timeout` naming `what`.
pub fn wait_for<T>(
    timeout: Duration,
    what: &str,
    mut f: impl FnMut() -> Option<T>,
) -> eyre::Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(eyre!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// QBFT `extraData` for a genesis: `RLP([vanity32, validators, [], 0, []])`, validators sorted.
pub fn qbft_genesis_extra(validators: &[Address]) -> Bytes {
    let mut sorted = validators.to_vec();
    sorted.sort();
    qrs_qbft::QbftExtra {
        vanity: Bytes::from(vec![0u8; 32]),
        validators: sorted,
        vote: None,
        round: 0,
        committed_seals: Vec::new(),
    }
    .to_extra_bytes()
}

/// The quickstart's genesis for `consensus`, with these validators, a short period, the forks
/// current solc targets, and the dev account funded.
pub fn genesis_json(consensus: Consensus, ids: &[NodeIdentity]) -> eyre::Result<Value> {
    let file = match consensus {
        Consensus::Qbft { .. } => "qbft-standard-genesis.json",
        Consensus::Raft { .. } => "raft-standard-genesis.json",
    };
    let path = quickstart_dir().join("genesis").join(file);
    let text =
        std::fs::read_to_string(&path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let mut g: Value = serde_json::from_str(&text)?;
    // solc's default EVM target (PUSH0 and later opcodes) needs the modern forks enabled, as a
    // user running current tooling would do
    g["config"]["berlinBlock"] = json!(0);
    g["config"]["shanghaiTime"] = json!(0);
    g["config"]["cancunTime"] = json!(0);
    g["config"]["pragueTime"] = json!(0);
    g["alloc"][format!("{DEV_ADDRESS:#x}")] =
        json!({"balance": format!("{:#x}", U256::from(10u128.pow(27)))});
    if let Consensus::Qbft { block_period, request_timeout } = consensus {
        g["config"]["qbft"] = json!({
            "epochLength": 30000,
            "blockPeriodSeconds": block_period,
            "requestTimeoutSeconds": request_timeout,
        });
        let validators: Vec<Address> = ids.iter().map(|i| i.address).collect();
        g["extraData"] = json!(qbft_genesis_extra(&validators).to_string());
    }
    Ok(g)
}
