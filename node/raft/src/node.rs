//! [`RaftNode`]: the sans-IO Raft service core. The driver (in `qrs-node`) calls
//! [`RaftNode::tick`] every `tick_interval`, feeds received bytes to [`RaftNode::step`], calls
//! [`RaftNode::mint`] when transactions arrive or a block was applied, and after each of these
//! calls [`RaftNode::process_ready`] and sends the returned messages. No clocks, sockets or
//! threads live here.
//!
//! `process_ready` follows the raft-rs Ready contract: the snapshot, new entries and `HardState`
//! are made durable in MDBX **before** any message of that Ready is handed out, and committed
//! entries are applied strictly in log order (blocks to the [`RaftChain`], `ConfChange`s to the
//! membership). Errors from storage or the chain leave the node inoperable (raft-rs's rule): the
//! driver must stop it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use alloy_primitives::{B256, keccak256};
use protobuf::Message as _;
use raft::{
    RawNode, SnapshotStatus, StateRole, Storage,
    prelude::{ConfChange, ConfChangeType, ConfState, Entry, EntryType, Message, Snapshot},
};

use crate::{
    chain::{BlockBuilder, BlockRef, BuiltBlock, RaftChain},
    config::RaftConfig,
    error::{RaftError, Result},
    logger::raft_logger,
    minter::SpeculativeChain,
    peer::{ClusterInfo, Enode, PeerAddress},
    snapshot::SnapshotData,
    storage::MdbxStorage,
};

/// A message to send: `(to raft id, protobuf bytes)`.
pub type Outgoing = (u64, Vec<u8>);

/// What applying one committed entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppliedKind {
    /// An empty entry (appended by a new leader).
    Empty,
    /// A block extended the chain.
    Block(B256),
    /// A block that was already in the chain (replay after a crash).
    Duplicate(B256),
    /// A block whose parent is not the head; ignored ("Non-extending block").
    NonExtending(B256),
    /// A membership change (`ConfChangeType` as i32, raft id).
    ConfChange(i32, u64),
    /// A normal entry that is not a decodable block; ignored.
    Undecodable,
}

/// One committed entry, as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedEntry {
    /// Log index.
    pub index: u64,
    /// Log term.
    pub term: u64,
    /// keccak256 of the entry data (to compare logs across nodes).
    pub data_hash: B256,
    /// Effect.
    pub kind: AppliedKind,
}

/// The result of one [`RaftNode::process_ready`].
#[derive(Debug, Default)]
pub struct ReadyOutput {
    /// Messages to send, already safe to send (their state is durable).
    pub messages: Vec<Outgoing>,
    /// Entries applied, in log order.
    pub applied: Vec<AppliedEntry>,
    /// Raft ids that `messages` carries a snapshot to: once the transport has sent it (or
    /// failed to), tell Raft with [`RaftNode::report_snapshot`].
    pub snapshots: Vec<u64>,
}

/// The Raft service core for one node.
pub struct RaftNode<C: RaftChain, B: BlockBuilder> {
    config: RaftConfig,
    raw: RawNode<MdbxStorage>,
    storage: MdbxStorage,
    chain: C,
    builder: B,
    /// Every known member, self included.
    peers: BTreeMap<u16, PeerAddress>,
    removed: BTreeSet<u16>,
    conf_state: ConfState,
    applied: u64,
    snapshot_index: u64,
    role: StateRole,
    leader: u64,
    speculative: SpeculativeChain,
    last_mint_ns: Option<u64>,
    conf_change_count: u64,
}

impl<C: RaftChain, B: BlockBuilder> std::fmt::Debug for RaftNode<C, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftNode")
            .field("raft_id", &self.config.raft_id)
            .field("role", &self.role)
            .field("leader", &self.leader)
            .field("applied", &self.applied)
            .finish_non_exhaustive()
    }
}

fn chain_err<E: std::error::Error + Send + Sync + 'static>(e: E) -> RaftError {
    RaftError::Chain(Box::new(e))
}

fn raft_id_u16(id: u64) -> Option<u16> {
    u16::try_from(id).ok()
}

impl<C: RaftChain, B: BlockBuilder> RaftNode<C, B> {
    /// Starts the node.
    ///
    /// - storage already initialised → restart from it (membership from the latest snapshot);
    /// - else `config.join_existing` → empty log, wait for the leader (`--raftjoinexisting`);
    /// - else a new cluster of `initial_peers` (from `static-nodes.json`, raft id = index + 1):
    ///   the log is bootstrapped with one committed `ConfChange` per peer carrying its address.
    pub fn start(
        config: RaftConfig,
        storage: MdbxStorage,
        chain: C,
        builder: B,
        initial_peers: &[PeerAddress],
    ) -> Result<Self> {
        let mut peers = BTreeMap::new();
        let mut removed = BTreeSet::new();
        let mut applied = 0;
        let mut snapshot_index = 0;
        if storage.is_initialised() {
            let snap_meta = storage.snapshot_metadata();
            if snap_meta.index > 0 {
                let snap = storage.snapshot(0, 0)?;
                let data = SnapshotData::from_rlp(&snap.data)?;
                peers = data.addresses.into_iter().map(|a| (a.raft_id, a)).collect();
                removed = data.removed.into_iter().collect();
                snapshot_index = snap_meta.index;
            } else {
                peers = initial_peers.iter().map(|a| (a.raft_id, a.clone())).collect();
            }
            applied = storage.applied_index().max(snapshot_index).min(storage.hard_state().commit);
            tracing::info!(target: "raft::node", raft_id = config.raft_id, applied, snapshot_index, "remounting an existing raft log");
        } else if config.join_existing {
            tracing::info!(target: "raft::node", raft_id = config.raft_id, "newly joining an existing cluster; waiting for the leader");
        } else {
            if initial_peers.is_empty() {
                return Err(RaftError::Config("empty raft peers list".into()));
            }
            if !initial_peers.iter().any(|p| p.raft_id == config.raft_id) {
                return Err(RaftError::Config(format!(
                    "raft id {} is not among the {} static nodes",
                    config.raft_id,
                    initial_peers.len()
                )));
            }
            let mut entries = Vec::with_capacity(initial_peers.len());
            for (i, p) in initial_peers.iter().enumerate() {
                let cc = ConfChange {
                    change_type: ConfChangeType::AddNode,
                    node_id: u64::from(p.raft_id),
                    context: p.to_rlp().into(),
                    ..Default::default()
                };
                let data = cc.write_to_bytes().map_err(RaftError::pb("ConfChange"))?;
                entries.push(Entry {
                    entry_type: EntryType::EntryConfChange,
                    term: 1,
                    index: (i as u64).saturating_add(1),
                    data: data.into(),
                    ..Default::default()
                });
                peers.insert(p.raft_id, p.clone());
            }
            let voters = initial_peers.iter().map(|p| u64::from(p.raft_id)).collect();
            storage.bootstrap(voters, &entries)?;
            tracing::info!(target: "raft::node", raft_id = config.raft_id, size = initial_peers.len(), "starting a new raft log");
        }
        let raw = RawNode::new(&config.to_raft(applied)?, storage.clone(), &raft_logger())?;
        let conf_state = storage.conf_state();
        let head = chain.head();
        Ok(Self {
            config,
            raw,
            storage,
            chain,
            builder,
            peers,
            removed,
            conf_state,
            applied,
            snapshot_index,
            role: StateRole::Follower,
            leader: 0,
            speculative: SpeculativeChain::new(head),
            last_mint_ns: None,
            conf_change_count: 0,
        })
    }

    // ----- driving -----

    /// Advances Raft's logical clock by one tick (call every `tick_interval`).
    pub fn tick(&mut self) {
        if !self.is_removed() {
            self.raw.tick();
        }
    }

    /// Feeds a message received from the transport. Messages from permanently removed peers
    /// and messages after this node was removed are dropped.
    pub fn step(&mut self, bytes: &[u8]) -> Result<()> {
        let msg = Message::parse_from_bytes(bytes).map_err(RaftError::pb("Message"))?;
        self.step_message(msg)
    }

    /// [`RaftNode::step`] for a message the driver already decoded (e.g. to check that its
    /// `from` matches the transport's authenticated sender).
    pub fn step_message(&mut self, msg: Message) -> Result<()> {
        if self.is_removed() || raft_id_u16(msg.from).is_some_and(|id| self.removed.contains(&id)) {
            return Ok(());
        }
        match self.raw.step(msg) {
            Ok(()) => Ok(()),
            Err(raft::Error::StepPeerNotFound | raft::Error::StepLocalMsg) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Tells Raft a peer could not be reached (transport failure).
    pub fn report_unreachable(&mut self, id: u64) {
        self.raw.report_unreachable(id);
    }

    /// Tells Raft how sending a snapshot to `id` ended.
    pub fn report_snapshot(&mut self, id: u64, ok: bool) {
        let status = if ok { SnapshotStatus::Finish } else { SnapshotStatus::Failure };
        self.raw.report_snapshot(id, status);
    }

    /// What the next block must be built on, if this node should mint at `now_ns` (Unix ns):
    /// it is the leader and at least `block_time` passed since its last block. Returns the
    /// parent (chain head or newest speculative block), the timestamp and the transactions
    /// already in speculative blocks. For drivers that build asynchronously and then call
    /// [`RaftNode::propose_block`]; [`RaftNode::mint`] does both synchronously.
    pub fn mint_target(&self, now_ns: u64) -> Option<(BlockRef, u64, HashSet<B256>)> {
        // raft's own state, not the cached soft state: a tick may have just stepped us down.
        if self.raw.raft.state != StateRole::Leader
            || self.role != StateRole::Leader
            || self.is_removed()
        {
            return None;
        }
        let block_time = u64::try_from(self.config.block_time.as_nanos()).unwrap_or(u64::MAX);
        if self.last_mint_ns.is_some_and(|last| now_ns < last.saturating_add(block_time)) {
            return None;
        }
        // With nothing in flight the chain's own head is the parent: block sync may have moved
        // it past the last block the log applied here.
        let parent =
            if self.speculative.is_empty() { self.chain.head() } else { *self.speculative.head() };
        let timestamp = self.config.timestamp_unit.next_timestamp(now_ns, parent.timestamp);
        Some((parent, timestamp, self.speculative.proposed()))
    }

    /// Mints a block if this node is the leader, at least `block_time` passed since the last
    /// minted block and the builder has pending transactions. `now_ns` is Unix time in ns.
    pub fn mint(&mut self, now_ns: u64) -> Result<Option<BlockRef>> {
        let Some((parent, timestamp, proposed)) = self.mint_target(now_ns) else {
            return Ok(None);
        };
        let Some(built) =
            self.builder.build_block(&parent, timestamp, &proposed).map_err(chain_err)?
        else {
            tracing::debug!(target: "raft::minter", "Not minting a new block since there are no pending transactions");
            return Ok(None);
        };
        let block = built.decoded.block;
        Ok(self.propose_block(built, now_ns)?.then_some(block))
    }

    /// Proposes a block built on a [`RaftNode::mint_target`] parent. Returns `false` if Raft
    /// dropped the proposal (not leader any more, leadership transfer). A block whose parent
    /// is not the speculative head is still proposed but not tracked; the log order decides
    /// and followers ignore it if it does not extend their head.
    pub fn propose_block(&mut self, built: BuiltBlock, now_ns: u64) -> Result<bool> {
        match self.raw.propose(Vec::new(), built.bytes) {
            Ok(()) => {}
            // Leadership is being transferred or this node was removed: not an error.
            Err(raft::Error::ProposalDropped) => {
                tracing::debug!(target: "raft::minter", "block proposal dropped by raft");
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        }
        let block = built.decoded.block;
        tracing::info!(target: "raft::minter", number = block.number, hash = %block.hash, txs = built.decoded.tx_hashes.len(), "minted block");
        if block.parent_hash == self.speculative.head().hash {
            self.speculative.extend(built.decoded);
        }
        self.last_mint_ns = Some(now_ns);
        Ok(true)
    }

    /// Handles raft-rs's `Ready`: persist, then release messages, then apply committed entries.
    pub fn process_ready(&mut self) -> Result<ReadyOutput> {
        let mut early = Vec::new();
        let mut out = self.process_ready_with(&mut |m| early.push(m))?;
        early.append(&mut out.messages);
        out.messages = early;
        Ok(out)
    }

    /// [`RaftNode::process_ready`], handing messages to `send` as soon as raft-rs allows: the
    /// leader's own messages (appends, heartbeats) before its log write, the rest right after
    /// it, and all of them **before** committed entries are applied, so a follower acknowledges
    /// new entries while it executes older blocks. Messages of the light Ready (they carry the
    /// commit index, persisted first) are returned in [`ReadyOutput::messages`].
    pub fn process_ready_with(&mut self, send: &mut dyn FnMut(Outgoing)) -> Result<ReadyOutput> {
        let mut out = ReadyOutput::default();
        if !self.raw.has_ready() {
            return Ok(out);
        }
        let mut rd = self.raw.ready();
        if let Some(ss) = rd.ss() {
            self.on_soft_state(ss.raft_state, ss.leader_id);
        }
        // 0. Messages that need nothing durable (the leader's) go out in parallel with the write.
        for m in rd.take_messages() {
            if m.msg_type == raft::prelude::MessageType::MsgSnapshot {
                out.snapshots.push(m.to);
            }
            send(encode(&m)?);
        }
        // 1. Durable first: snapshot, entries, HardState.
        if !rd.snapshot().is_empty() {
            let snap = rd.snapshot().clone();
            self.storage.apply_snapshot(&snap)?;
            self.on_snapshot(&snap)?;
        }
        self.storage.persist(rd.entries(), rd.hs())?;
        // 2. Messages that depend on the write are now safe to send.
        for m in rd.take_persisted_messages() {
            if m.msg_type == raft::prelude::MessageType::MsgSnapshot {
                out.snapshots.push(m.to);
            }
            send(encode(&m)?);
        }
        // 3. Apply in log order.
        let committed = rd.take_committed_entries();
        self.apply_entries(committed, &mut out.applied)?;
        let mut light = self.raw.advance(rd);
        let commit = light.commit_index();
        let light_messages = light.take_messages();
        let committed = light.take_committed_entries();
        self.apply_entries(committed, &mut out.applied)?;
        self.raw.advance_apply();
        let applied = (!out.applied.is_empty()).then_some(self.applied);
        // The light Ready's messages carry the commit index: persist it first.
        self.storage.set_commit_and_applied(commit, applied)?;
        for m in light_messages {
            if m.msg_type == raft::prelude::MessageType::MsgSnapshot {
                out.snapshots.push(m.to);
            }
            out.messages.push(encode(&m)?);
        }
        if applied.is_some() {
            self.maybe_snapshot()?;
        }
        Ok(out)
    }

    fn on_soft_state(&mut self, role: StateRole, leader: u64) {
        if leader != self.leader {
            tracing::info!(target: "raft::node", raft_id = self.config.raft_id, leader, "leader changed");
        }
        self.leader = leader;
        if role != self.role {
            if role == StateRole::Leader {
                tracing::info!(target: "raft::node", raft_id = self.config.raft_id, "BECAME-MINTER");
            } else if self.role == StateRole::Leader {
                tracing::info!(target: "raft::node", raft_id = self.config.raft_id, "BECAME-VERIFIER");
            }
            // Minting starts or stops: the speculative chain restarts on the real head.
            self.speculative.clear(self.chain.head());
            self.last_mint_ns = None;
            self.role = role;
        }
    }

    fn on_snapshot(&mut self, snap: &Snapshot) -> Result<()> {
        let data = SnapshotData::from_rlp(&snap.data)?;
        let meta = snap.get_metadata();
        tracing::info!(target: "raft::node", index = meta.index, head = %data.head_hash, "applying raft snapshot");
        self.peers = data.addresses.into_iter().map(|a| (a.raft_id, a)).collect();
        self.removed = data.removed.into_iter().collect();
        self.conf_state = meta.get_conf_state().clone();
        if !self.chain.contains(&data.head_hash) {
            self.chain.sync_to(&data.head_hash).map_err(chain_err)?;
        }
        self.speculative.clear(self.chain.head());
        self.applied = meta.index;
        self.snapshot_index = meta.index;
        Ok(())
    }

    fn apply_entries(
        &mut self,
        entries: Vec<Entry>,
        applied: &mut Vec<AppliedEntry>,
    ) -> Result<()> {
        for entry in entries {
            if entry.index <= self.applied {
                continue;
            }
            let kind = match entry.entry_type {
                EntryType::EntryNormal if entry.data.is_empty() => AppliedKind::Empty,
                EntryType::EntryNormal => self.apply_block(&entry.data)?,
                EntryType::EntryConfChange => self.apply_conf_change(&entry)?,
                EntryType::EntryConfChangeV2 => AppliedKind::Undecodable,
            };
            self.applied = entry.index;
            applied.push(AppliedEntry {
                index: entry.index,
                term: entry.term,
                data_hash: keccak256(&entry.data),
                kind,
            });
        }
        Ok(())
    }

    fn apply_block(&mut self, bytes: &[u8]) -> Result<AppliedKind> {
        let decoded = match self.chain.decode(bytes) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(target: "raft::node", error = %e, "error decoding block");
                return Ok(AppliedKind::Undecodable);
            }
        };
        let hash = decoded.block.hash;
        if self.chain.contains(&hash) {
            tracing::warn!(target: "raft::node", %hash, "not applying already-applied block");
            // Block sync may import a committed block before its log entry is applied here (a
            // follower announced it first; the import may still be publishing the new head).
            // If it is the minter's oldest speculative block, that block is done all the same,
            // or minting would wait for it forever.
            if self.role == StateRole::Leader {
                self.speculative.applied_elsewhere(&hash);
            }
            return Ok(AppliedKind::Duplicate(hash));
        }
        let head = self.chain.head();
        if decoded.block.parent_hash != head.hash {
            tracing::info!(target: "raft::node", block = %hash, parent = %decoded.block.parent_hash, head = %head.hash, "Non-extending block");
            self.speculative.unwind_from(&hash, head);
            return Ok(AppliedKind::NonExtending(hash));
        }
        self.chain.apply(bytes).map_err(chain_err)?;
        if self.role == StateRole::Leader {
            self.speculative.accept(&decoded);
        } else {
            self.speculative.set_head(decoded.block);
        }
        Ok(AppliedKind::Block(hash))
    }

    fn apply_conf_change(&mut self, entry: &Entry) -> Result<AppliedKind> {
        let cc = ConfChange::parse_from_bytes(&entry.data).map_err(RaftError::pb("ConfChange"))?;
        let kind = AppliedKind::ConfChange(cc.change_type as i32, cc.node_id);
        let Some(id) = raft_id_u16(cc.node_id) else {
            tracing::warn!(target: "raft::node", node_id = cc.node_id, "ignoring ConfChange for a raft id above 65535");
            return Ok(kind);
        };
        match cc.change_type {
            ConfChangeType::AddNode | ConfChangeType::AddLearnerNode => {
                if self.removed.contains(&id) {
                    tracing::info!(target: "raft::node", raft_id = id, "ignoring ConfChange for permanently-removed peer");
                    return Ok(kind);
                }
                self.conf_state = self.raw.apply_conf_change(&cc)?;
                match self.peers.entry(id) {
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        match PeerAddress::from_rlp(&cc.context) {
                            Ok(addr) => {
                                tracing::info!(target: "raft::node", raft_id = id, learner = cc.change_type == ConfChangeType::AddLearnerNode, "adding raft peer");
                                slot.insert(addr);
                            }
                            Err(e) => {
                                tracing::error!(target: "raft::node", raft_id = id, error = %e, "ConfChange without a peer address")
                            }
                        }
                    }
                    std::collections::btree_map::Entry::Occupied(_) => {
                        tracing::info!(target: "raft::node", raft_id = id, "raft peer now a voter");
                    }
                }
            }
            ConfChangeType::RemoveNode => {
                if self.removed.contains(&id) {
                    return Ok(kind);
                }
                self.conf_state = self.raw.apply_conf_change(&cc)?;
                self.peers.remove(&id);
                self.removed.insert(id);
                if id == self.config.raft_id {
                    tracing::warn!(target: "raft::node", "permanently removed from the raft cluster");
                }
            }
        }
        self.storage.set_conf_state(&self.conf_state)?;
        // As GoQuorum: snapshot right away so the membership survives a restart.
        self.take_snapshot(entry.index)?;
        Ok(kind)
    }

    fn maybe_snapshot(&mut self) -> Result<()> {
        if self.applied.saturating_sub(self.snapshot_index) >= self.config.snapshot_period {
            self.take_snapshot(self.applied)?;
        }
        Ok(())
    }

    fn take_snapshot(&mut self, index: u64) -> Result<()> {
        if index <= self.snapshot_index {
            return Ok(());
        }
        let data = SnapshotData {
            addresses: self.peers.values().cloned().collect(),
            removed: self.removed.iter().copied().collect(),
            head_hash: self.chain.head().hash,
        };
        self.storage.create_snapshot(index, self.conf_state.clone(), data.to_rlp())?;
        self.snapshot_index = index;
        tracing::debug!(target: "raft::node", index, "snapshot taken, log compacted");
        Ok(())
    }

    // ----- membership -----

    fn check_in_cluster(&self) -> Result<()> {
        if self.is_removed() {
            return Err(RaftError::Membership(
                "node not part of raft cluster. operations not allowed".into(),
            ));
        }
        Ok(())
    }

    fn next_raft_id(&self) -> Result<u16> {
        let max = self
            .peers
            .keys()
            .chain(self.removed.iter())
            .copied()
            .chain([self.config.raft_id])
            .max()
            .unwrap_or(0);
        max.checked_add(1).ok_or_else(|| RaftError::Membership("no raft id left".into()))
    }

    fn propose_cc(&mut self, change_type: ConfChangeType, id: u16, context: Vec<u8>) -> Result<()> {
        self.conf_change_count = self.conf_change_count.saturating_add(1);
        let cc = ConfChange {
            change_type,
            node_id: u64::from(id),
            context: context.into(),
            id: self.conf_change_count,
            ..Default::default()
        };
        self.raw.propose_conf_change(Vec::new(), cc)?;
        Ok(())
    }

    /// `raft_addPeer` / `raft_addLearner`: proposes a new member and returns its raft id.
    pub fn add_peer(&mut self, enode_url: &str, learner: bool) -> Result<u16> {
        self.check_in_cluster()?;
        if self.is_learner(self.config.raft_id) {
            return Err(RaftError::Membership("learner node can't add peer or learner".into()));
        }
        let enode = Enode::parse(enode_url)?;
        if !self.config.dns_enable && enode.host.parse::<std::net::IpAddr>().is_err() {
            return Err(RaftError::Membership("raft must enable dns to use hostname".into()));
        }
        for p in self.peers.values() {
            if p.node_id == enode.node_id {
                let msg = if p.raft_id == self.config.raft_id {
                    format!(
                        "enode is this enode (self): node with this enode has already been added to the cluster: {}",
                        p.node_id_hex()
                    )
                } else {
                    format!(
                        "node with this enode has already been added to the cluster: {}",
                        p.node_id_hex()
                    )
                };
                return Err(RaftError::Membership(msg));
            }
            if p.hostname == enode.host && p.p2p_port == enode.port {
                return Err(RaftError::Membership(format!(
                    "existing node {} with raft ID {} is already using eth p2p at {}:{}",
                    p.node_id_hex(),
                    p.raft_id,
                    enode.host,
                    enode.port
                )));
            }
            if p.hostname == enode.host && Some(p.raft_port) == enode.raft_port {
                return Err(RaftError::Membership(format!(
                    "existing node {} with raft ID {} is already using raft at {}:{}",
                    p.node_id_hex(),
                    p.raft_id,
                    enode.host,
                    p.raft_port
                )));
            }
        }
        let id = self.next_raft_id()?;
        let address = enode.into_address(id, enode_url)?;
        let change = if learner { ConfChangeType::AddLearnerNode } else { ConfChangeType::AddNode };
        self.propose_cc(change, id, address.to_rlp())?;
        Ok(id)
    }

    /// `raft_promoteToPeer`.
    pub fn promote_to_peer(&mut self, raft_id: u16) -> Result<bool> {
        self.check_in_cluster()?;
        if self.is_learner(self.config.raft_id) {
            return Err(RaftError::Membership("learner node can't promote to peer".into()));
        }
        if !self.is_learner(raft_id) {
            return Err(RaftError::Membership(format!(
                "{raft_id} is not a learner. only learner can be promoted to peer"
            )));
        }
        self.propose_cc(ConfChangeType::AddNode, raft_id, Vec::new())?;
        Ok(true)
    }

    /// `raft_removePeer`.
    pub fn remove_peer(&mut self, raft_id: u16) -> Result<()> {
        self.check_in_cluster()?;
        if self.is_learner(self.config.raft_id) && raft_id != self.config.raft_id {
            return Err(RaftError::Membership("learner node can't remove other peer".into()));
        }
        self.propose_cc(ConfChangeType::RemoveNode, raft_id, Vec::new())
    }

    // ----- queries -----

    /// This node's raft id.
    pub fn raft_id(&self) -> u16 {
        self.config.raft_id
    }

    /// The leader's raft id (0 = none known).
    pub fn leader_id(&self) -> u64 {
        self.leader
    }

    /// Whether this node is the leader (the minter).
    pub fn is_leader(&self) -> bool {
        self.role == StateRole::Leader
    }

    /// Whether this node was permanently removed from the cluster.
    pub fn is_removed(&self) -> bool {
        self.removed.contains(&self.config.raft_id)
    }

    fn is_learner(&self, id: u16) -> bool {
        self.conf_state.learners.contains(&u64::from(id))
    }

    fn is_voter(&self, id: u16) -> bool {
        self.conf_state.voters.contains(&u64::from(id))
    }

    /// `raft_leader`: the leader's node id (128 hex characters).
    pub fn leader_node_id(&self) -> Result<String> {
        raft_id_u16(self.leader)
            .filter(|_| self.leader != 0)
            .and_then(|id| self.peers.get(&id))
            .map(PeerAddress::node_id_hex)
            .ok_or(RaftError::NoLeader)
    }

    fn role_of(&self, id: u16) -> &'static str {
        if u64::from(id) == self.leader {
            "minter"
        } else if self.is_learner(id) {
            "learner"
        } else if self.is_voter(id) {
            "verifier"
        } else {
            ""
        }
    }

    /// `raft_role`: `"minter"`, `"verifier"`, `"learner"`, or `""` (removed, or no leader).
    pub fn role(&self) -> &'static str {
        if self.is_removed() || self.leader == 0 {
            return "";
        }
        self.role_of(self.config.raft_id)
    }

    /// `raft_cluster`: every member, sorted by raft id. `is_active(id)` answers for the
    /// transport (GoQuorum `ActiveSince`); self is always active. Empty once removed.
    pub fn cluster(&self, is_active: impl Fn(u16) -> bool) -> Vec<ClusterInfo> {
        if self.is_removed() {
            return Vec::new();
        }
        self.peers
            .values()
            .map(|p| ClusterInfo {
                raft_id: p.raft_id,
                node_id: p.node_id_hex(),
                p2p_port: p.p2p_port,
                raft_port: p.raft_port,
                hostname: p.hostname.clone(),
                role: if self.leader == 0 {
                    String::new()
                } else {
                    self.role_of(p.raft_id).to_string()
                },
                node_active: p.raft_id == self.config.raft_id || is_active(p.raft_id),
            })
            .collect()
    }

    /// `raft_getRaftId`: the raft id of the member with this enode's node id.
    pub fn raft_id_of(&self, enode_url: &str) -> Result<u16> {
        let enode = Enode::parse(enode_url)?;
        self.peers.values().find(|p| p.node_id == enode.node_id).map(|p| p.raft_id).ok_or_else(
            || RaftError::Membership(format!("node not found in the cluster: {enode_url}")),
        )
    }

    /// Every known member (self included), by raft id.
    pub fn peers(&self) -> impl Iterator<Item = &PeerAddress> {
        self.peers.values()
    }

    /// Permanently removed raft ids.
    pub fn removed_peer_ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.removed.iter().copied()
    }

    /// The applied index.
    pub fn applied_index(&self) -> u64 {
        self.applied
    }

    /// Index of the latest snapshot.
    pub fn snapshot_index(&self) -> u64 {
        self.snapshot_index
    }

    /// The chain.
    pub fn chain(&self) -> &C {
        &self.chain
    }

    /// The chain, mutably (e.g. to submit transactions to a test pool).
    pub fn chain_mut(&mut self) -> &mut C {
        &mut self.chain
    }

    /// The block builder.
    pub fn builder_mut(&mut self) -> &mut B {
        &mut self.builder
    }

    /// Blocks proposed by this minter and not applied yet.
    pub fn speculative(&self) -> &SpeculativeChain {
        &self.speculative
    }
}

fn encode(m: &Message) -> Result<Outgoing> {
    Ok((m.to, m.write_to_bytes().map_err(RaftError::pb("Message"))?))
}
