//! In-process cluster harness: `RaftNode`s over an in-memory transport driven by a seeded RNG
//! (drops, delays, partitions, kills, restarts), a small in-memory chain of sealed GoQuorum-style
//! headers, and a global check that no two nodes ever apply different entries at one index.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex},
};

use alloy_consensus::Header;
use alloy_primitives::{B256, Bytes, keccak256};
use alloy_rlp::{Decodable, Encodable};
use protobuf::Message as _;
use qrs_raft::{
    AppliedKind, BlockBuilder, BlockRef, BuiltBlock, DecodedBlock, MdbxStorage, PeerAddress,
    RaftChain, RaftConfig, RaftNode,
    header::{recover_sealer, seal_header},
    raft::prelude::{Message, MessageType},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use secp256k1::SecretKey;

#[derive(Debug, thiserror::Error)]
pub enum TestChainError {
    #[error("rlp: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    #[error("block {0} does not extend the head")]
    NotExtending(B256),
    #[error("unknown block {0}")]
    Unknown(B256),
}

/// Every block ever built, by hash: what devp2p block download would find on peers.
pub type Registry = Arc<Mutex<HashMap<B256, Vec<u8>>>>;

#[derive(Debug, Default)]
pub struct ChainInner {
    pub blocks: Vec<(DecodedBlock, Header)>,
    pub by_hash: HashMap<B256, usize>,
    pub txs: HashSet<B256>,
}

/// A node's chain, shared with the harness so it survives a node's kill and restart (as the
/// MDBX chain database would).
#[derive(Debug, Clone)]
pub struct TestChain {
    pub inner: Arc<Mutex<ChainInner>>,
    registry: Registry,
}

pub fn encode_block(header: &Header, txs: &[Bytes]) -> Vec<u8> {
    let mut payload = Vec::new();
    header.encode(&mut payload);
    txs.to_vec().encode(&mut payload);
    let mut out = Vec::new();
    alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
    out.extend(payload);
    out
}

pub fn decode_block(mut bytes: &[u8]) -> Result<(DecodedBlock, Header), TestChainError> {
    let mut body = alloy_rlp::Header::decode_bytes(&mut bytes, true)?;
    let header = Header::decode(&mut body)?;
    let txs = Vec::<Bytes>::decode(&mut body)?;
    let block = BlockRef {
        number: header.number,
        hash: header.hash_slow(),
        parent_hash: header.parent_hash,
        timestamp: header.timestamp,
    };
    Ok((DecodedBlock { block, tx_hashes: txs.iter().map(keccak256).collect() }, header))
}

impl TestChain {
    pub fn new(registry: Registry) -> Self {
        let genesis = Header { extra_data: vec![0u8; 32].into(), ..Default::default() };
        let bytes = encode_block(&genesis, &[]);
        let (decoded, header) = decode_block(&bytes).unwrap();
        let mut inner = ChainInner::default();
        inner.by_hash.insert(decoded.block.hash, 0);
        inner.blocks.push((decoded, header));
        Self { inner: Arc::new(Mutex::new(inner)), registry }
    }

    pub fn hashes(&self) -> Vec<B256> {
        self.inner.lock().unwrap().blocks.iter().map(|(d, _)| d.block.hash).collect()
    }

    pub fn tx_count(&self) -> usize {
        self.inner.lock().unwrap().txs.len()
    }

    pub fn headers(&self) -> Vec<Header> {
        self.inner.lock().unwrap().blocks.iter().map(|(_, h)| h.clone()).collect()
    }

    fn insert(&self, bytes: &[u8]) -> Result<BlockRef, TestChainError> {
        let (decoded, header) = decode_block(bytes)?;
        let mut inner = self.inner.lock().unwrap();
        let head = inner.blocks.last().map(|(d, _)| d.block.hash).unwrap_or_default();
        if decoded.block.parent_hash != head {
            return Err(TestChainError::NotExtending(decoded.block.hash));
        }
        let at = inner.blocks.len();
        inner.by_hash.insert(decoded.block.hash, at);
        inner.txs.extend(decoded.tx_hashes.iter().copied());
        let block = decoded.block;
        inner.blocks.push((decoded, header));
        Ok(block)
    }
}

impl RaftChain for TestChain {
    type Error = TestChainError;

    fn head(&self) -> BlockRef {
        self.inner.lock().unwrap().blocks.last().map(|(d, _)| d.block).unwrap_or_default()
    }

    fn decode(&self, bytes: &[u8]) -> Result<DecodedBlock, TestChainError> {
        decode_block(bytes).map(|(d, _)| d)
    }

    fn contains(&self, hash: &B256) -> bool {
        self.inner.lock().unwrap().by_hash.contains_key(hash)
    }

    fn apply(&mut self, bytes: &[u8]) -> Result<BlockRef, TestChainError> {
        self.insert(bytes)
    }

    fn sync_to(&mut self, hash: &B256) -> Result<(), TestChainError> {
        let mut path = Vec::new();
        let mut cursor = *hash;
        while !self.contains(&cursor) {
            let bytes = self
                .registry
                .lock()
                .unwrap()
                .get(&cursor)
                .cloned()
                .ok_or(TestChainError::Unknown(cursor))?;
            cursor = decode_block(&bytes)?.0.block.parent_hash;
            path.push(bytes);
        }
        for bytes in path.iter().rev() {
            self.insert(bytes)?;
        }
        Ok(())
    }
}

/// Builds sealed blocks from the shared pool, skipping transactions already on this node's
/// chain or in its speculative blocks.
#[derive(Debug)]
pub struct TestBuilder {
    chain: TestChain,
    pool: Arc<Mutex<Vec<Bytes>>>,
    registry: Registry,
    raft_id: u16,
    key: SecretKey,
}

impl BlockBuilder for TestBuilder {
    type Error = TestChainError;

    fn build_block(
        &mut self,
        parent: &BlockRef,
        timestamp: u64,
        proposed: &HashSet<B256>,
    ) -> Result<Option<BuiltBlock>, TestChainError> {
        let included = self.chain.inner.lock().unwrap().txs.clone();
        let txs: Vec<Bytes> = self
            .pool
            .lock()
            .unwrap()
            .iter()
            .filter(|t| {
                let h = keccak256(t);
                !included.contains(&h) && !proposed.contains(&h)
            })
            .take(5)
            .cloned()
            .collect();
        if txs.is_empty() {
            return Ok(None);
        }
        let mut header = Header {
            parent_hash: parent.hash,
            number: parent.number + 1,
            timestamp,
            gas_limit: 700_000_000,
            transactions_root: keccak256(alloy_rlp::encode(&txs)),
            ..Default::default()
        };
        seal_header(&mut header, self.raft_id, &self.key);
        let bytes = encode_block(&header, &txs);
        let (decoded, _) = decode_block(&bytes)?;
        self.registry.lock().unwrap().insert(decoded.block.hash, bytes.clone());
        Ok(Some(BuiltBlock { decoded, bytes }))
    }
}

pub type Node = RaftNode<TestChain, TestBuilder>;

pub fn node_key(id: u16) -> SecretKey {
    SecretKey::from_byte_array([id as u8; 32]).unwrap()
}

pub fn enode_url(id: u16) -> String {
    format!(
        "enode://{}@127.0.0.1:{}?discport=0&raftport={}",
        hex::encode([id as u8; 64]),
        30300 + id,
        50400 + id
    )
}

struct InFlight {
    at: u64,
    from: u64,
    to: u64,
    bytes: Vec<u8>,
}

pub struct Cluster {
    pub nodes: BTreeMap<u64, Option<Node>>,
    dirs: BTreeMap<u64, tempfile::TempDir>,
    pub chains: BTreeMap<u64, TestChain>,
    pub rng: StdRng,
    queue: Vec<InFlight>,
    pub drop_rate: f64,
    pub max_delay: u64,
    pub isolated: HashSet<u64>,
    pub tick: u64,
    pool: Arc<Mutex<Vec<Bytes>>>,
    registry: Registry,
    /// index → (term, data hash) of the first node that applied it.
    applied_log: BTreeMap<u64, (u64, B256)>,
    pub snapshot_period: u64,
    /// Every applied entry's effect, per node, in order.
    pub applied_kinds: Vec<(u64, AppliedKind)>,
    initial: Vec<PeerAddress>,
    next_tx: u64,
}

const BASE_NS: u64 = 1_700_000_000_000_000_000;

impl Cluster {
    pub fn new(size: u16, seed: u64, snapshot_period: u64) -> Self {
        let initial: Vec<PeerAddress> =
            (1..=size).map(|id| PeerAddress::from_enode(id, &enode_url(id)).unwrap()).collect();
        let mut c = Self {
            nodes: BTreeMap::new(),
            dirs: BTreeMap::new(),
            chains: BTreeMap::new(),
            rng: StdRng::seed_from_u64(seed),
            queue: Vec::new(),
            drop_rate: 0.0,
            max_delay: 0,
            isolated: HashSet::new(),
            tick: 0,
            pool: Arc::default(),
            registry: Arc::default(),
            applied_log: BTreeMap::new(),
            snapshot_period,
            applied_kinds: Vec::new(),
            initial,
            next_tx: 0,
        };
        for id in 1..=size {
            c.start_node(id, false);
        }
        c
    }

    fn config(&self, id: u16, join: bool) -> RaftConfig {
        let mut cfg = RaftConfig::new(id);
        cfg.join_existing = join;
        cfg.snapshot_period = self.snapshot_period;
        cfg
    }

    /// Starts (or restarts, from its MDBX directory and chain) node `id`.
    pub fn start_node(&mut self, id: u16, join: bool) {
        let key = u64::from(id);
        let dir = self.dirs.entry(key).or_insert_with(|| tempfile::tempdir().unwrap());
        let storage = MdbxStorage::open(dir.path()).unwrap();
        let registry = self.registry.clone();
        let chain = self.chains.entry(key).or_insert_with(|| TestChain::new(registry)).clone();
        let builder = TestBuilder {
            chain: chain.clone(),
            pool: self.pool.clone(),
            registry: self.registry.clone(),
            raft_id: id,
            key: node_key(id),
        };
        let node =
            RaftNode::start(self.config(id, join), storage, chain, builder, &self.initial).unwrap();
        self.nodes.insert(key, Some(node));
    }

    /// Drops node `id` (its storage directory and chain stay for a restart).
    pub fn kill(&mut self, id: u64) {
        if let Some(slot) = self.nodes.get_mut(&id) {
            *slot = None;
        }
    }

    pub fn node(&self, id: u64) -> &Node {
        self.nodes[&id].as_ref().unwrap()
    }

    pub fn node_mut(&mut self, id: u64) -> &mut Node {
        self.nodes.get_mut(&id).unwrap().as_mut().unwrap()
    }

    pub fn live(&self) -> Vec<u64> {
        self.nodes.iter().filter(|(_, n)| n.is_some()).map(|(id, _)| *id).collect()
    }

    pub fn submit_txs(&mut self, n: usize) {
        let mut pool = self.pool.lock().unwrap();
        for _ in 0..n {
            self.next_tx += 1;
            pool.push(format!("tx-{}", self.next_tx).into_bytes().into());
        }
    }

    pub fn total_txs(&self) -> usize {
        self.pool.lock().unwrap().len()
    }

    /// The leader, if exactly one live, non-isolated node is leader.
    pub fn leader(&self) -> Option<u64> {
        let leaders: Vec<u64> = self
            .live()
            .into_iter()
            .filter(|id| !self.isolated.contains(id) && self.node(*id).is_leader())
            .collect();
        (leaders.len() == 1).then(|| leaders[0])
    }

    fn process(&mut self, id: u64) {
        let Some(Some(node)) = self.nodes.get_mut(&id) else { return };
        let out = node.process_ready().unwrap();
        for a in &out.applied {
            match self.applied_log.get(&a.index) {
                Some(&(term, hash)) => assert_eq!(
                    (term, hash),
                    (a.term, a.data_hash),
                    "node {id} applied a different entry at index {}",
                    a.index
                ),
                None => {
                    self.applied_log.insert(a.index, (a.term, a.data_hash));
                }
            }
            assert!(!matches!(a.kind, AppliedKind::Undecodable), "undecodable entry {}", a.index);
            self.applied_kinds.push((id, a.kind.clone()));
        }
        for (to, bytes) in out.messages {
            let delay =
                if self.max_delay == 0 { 0 } else { self.rng.gen_range(0..=self.max_delay) };
            self.queue.push(InFlight { at: self.tick + delay, from: id, to, bytes });
        }
    }

    fn deliver_due(&mut self) {
        for _ in 0..100 {
            let (due, rest): (Vec<_>, Vec<_>) =
                std::mem::take(&mut self.queue).into_iter().partition(|m| m.at <= self.tick);
            self.queue = rest;
            if due.is_empty() {
                return;
            }
            let mut touched = HashSet::new();
            for m in due {
                let is_snapshot = Message::parse_from_bytes(&m.bytes)
                    .map(|x| x.msg_type == MessageType::MsgSnapshot)
                    .unwrap_or(false);
                let alive = matches!(self.nodes.get(&m.to), Some(Some(_)));
                let lost = !alive
                    || self.isolated.contains(&m.from)
                    || self.isolated.contains(&m.to)
                    || (self.drop_rate > 0.0 && self.rng.gen_bool(self.drop_rate));
                if is_snapshot {
                    if let Some(Some(sender)) = self.nodes.get_mut(&m.from) {
                        sender.report_snapshot(m.to, !lost);
                    }
                    touched.insert(m.from);
                }
                if lost {
                    continue;
                }
                self.node_mut(m.to).step(&m.bytes).unwrap();
                touched.insert(m.to);
            }
            for id in touched {
                self.process(id);
            }
        }
    }

    /// One 100 ms tick on every live node: tick, mint, Ready, deliver due messages.
    pub fn round(&mut self) {
        self.tick += 1;
        let now = BASE_NS + self.tick * 100_000_000;
        for id in self.live() {
            let node = self.node_mut(id);
            node.tick();
            node.mint(now).unwrap();
            self.process(id);
        }
        self.deliver_due();
    }

    pub fn run(&mut self, rounds: u64) {
        for _ in 0..rounds {
            self.round();
        }
    }

    /// Runs until `cond` holds, at most `max` rounds; returns the rounds used.
    pub fn run_until(&mut self, max: u64, mut cond: impl FnMut(&Self) -> bool) -> Option<u64> {
        for i in 0..max {
            if cond(self) {
                return Some(i);
            }
            self.round();
        }
        cond(self).then_some(max)
    }

    /// Every live chain is a prefix of the longest one.
    pub fn assert_chains_consistent(&self) {
        let chains: Vec<Vec<B256>> =
            self.live().iter().map(|id| self.chains[id].hashes()).collect();
        let longest = chains.iter().max_by_key(|c| c.len()).unwrap();
        for c in &chains {
            assert_eq!(&longest[..c.len()], &c[..], "chains diverge");
        }
    }

    /// Every header after genesis carries a valid seal of a cluster member.
    pub fn assert_seals(&self, id: u64) {
        for h in self.chains[&id].headers().iter().skip(1) {
            let (raft_id, pk) = recover_sealer(h).unwrap();
            assert_eq!(
                pk,
                secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, &node_key(raft_id))
            );
        }
    }
}
