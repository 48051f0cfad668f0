//! The driver thread: owns the `RaftNode` and runs the raft-rs loop on a dedicated OS thread
//! (applying a block executes it, which must not stall the async runtime).
//!
//! Each turn: wait for an input or the next tick / mint time; step inputs (Raft messages whose
//! `from` must be the authenticated libp2p sender, RPC membership changes, pool wake-ups); tick
//! every `tick_interval`; mint if leader (one block in flight, see `adapter`); then
//! `process_ready` until idle: outgoing messages go to the member's peer id on `Topic::Raft`
//! (a failed send is reported unreachable, snapshot sends are reported), members are refreshed,
//! new members dialled, and the status for RPC is published.

use std::{
    collections::{BTreeSet, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::{Receiver, RecvTimeoutError},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use protobuf::Message as _;
use qrs_chain::Chain;
use qrs_network::{NetworkHandle, PeerId, PenaltyReason, Topic};
use qrs_raft::{
    AppliedKind, RaftError, RaftNode, raft,
    raft::prelude::{EntryType, Message, MessageType},
};

use super::{
    adapter::{LogChain, Minter},
    handle::{Command, Input},
    members::{Members, MintStats, RaftStatus, enode_of_key, network_enode},
};
use crate::EngineError;

/// Inputs handled per turn before ticking and processing (keeps ticks on time under load).
const MAX_INPUTS_PER_TURN: usize = 512;

/// How soon a leader whose last build found nothing tries again although the pool did not
/// signal anything new.
const IDLE_RETRY: Duration = Duration::from_secs(1);

/// `at + d`, or `at` if that is not representable.
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d).unwrap_or(at)
}

/// Unix time in nanoseconds.
fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// The minter's clock: Unix nanoseconds that advance exactly as [`Instant`] does, so the Raft
/// node's `raftblocktime` gate agrees with the driver's (two readings of the wall clock taken
/// next to two `Instant`s can be closer together than the `Instant`s when the thread is
/// preempted between the readings; the node then refused to mint and the driver, taking that
/// for "nothing to mint", stopped trying). It never goes backwards; a wall clock stepped
/// forward by more than a second is followed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MintClock {
    base: Instant,
    base_ns: u64,
}

impl MintClock {
    pub(crate) fn new() -> Self {
        Self { base: Instant::now(), base_ns: wall_ns() }
    }

    /// Unix ns at `at` (an instant not before the clock's creation).
    fn ns_at(&mut self, at: Instant) -> u64 {
        let elapsed = at.saturating_duration_since(self.base).as_nanos();
        let ns = self.base_ns.saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX));
        let wall = wall_ns();
        if wall > ns.saturating_add(1_000_000_000) {
            self.base = at;
            self.base_ns = wall;
            return wall;
        }
        ns
    }
}

fn fatal(reason: impl std::fmt::Display) -> EngineError {
    EngineError::Fatal { engine: "raft", reason: reason.to_string() }
}

/// Queues one Raft message for the member `to`; `false` if it cannot be sent. Known rather than
/// current members: a joining node answers the leader before it learns the membership from the
/// snapshot.
fn send_raft(network: &NetworkHandle, members: &Members, to: u64, bytes: Vec<u8>) -> bool {
    match u16::try_from(to).ok().and_then(|id| members.known_peer(id)) {
        Some(peer) => network.send(peer, Topic::Raft, Bytes::from(bytes)).is_ok(),
        None => false,
    }
}

/// The Raft service loop.
pub(crate) struct Driver {
    pub(crate) node: RaftNode<LogChain, Minter>,
    pub(crate) network: NetworkHandle,
    pub(crate) members: Arc<Members>,
    pub(crate) chain: Chain,
    pub(crate) inputs: Receiver<Input>,
    pub(crate) pool_signal: Arc<AtomicBool>,
    pub(crate) tick_interval: Duration,
    pub(crate) block_time: Duration,
    /// Raft ids dialled (the network keeps re-dialling them).
    pub(crate) dialled: BTreeSet<u16>,
    /// Whether the pool may hold something to mint (cleared when a build finds nothing).
    pub(crate) pool_dirty: bool,
    pub(crate) last_mint: Option<Instant>,
    /// When the block in flight was proposed.
    pub(crate) in_flight: Option<Instant>,
    pub(crate) stats: MintStats,
    pub(crate) clock: MintClock,
}

impl Driver {
    /// Runs until shutdown (`Ok`) or a storage/chain failure (`Err`).
    pub(crate) fn run(mut self) -> Result<(), EngineError> {
        self.refresh();
        let mut next_tick = later(Instant::now(), self.tick_interval);
        loop {
            let now = Instant::now();
            let mut wait = next_tick.saturating_duration_since(now);
            if let Some(at) = self.mint_due() {
                wait = wait.min(at.saturating_duration_since(now));
            }
            let first = match self.inputs.recv_timeout(wait) {
                Ok(input) => Some(input),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            let mut batch: Vec<Input> = first.into_iter().collect();
            while batch.len() < MAX_INPUTS_PER_TURN {
                match self.inputs.try_recv() {
                    Ok(input) => batch.push(input),
                    Err(_) => break,
                }
            }
            for input in batch {
                if !self.handle(input)? {
                    return Ok(());
                }
            }
            if Instant::now() >= next_tick {
                self.node.tick();
                next_tick = later(next_tick, self.tick_interval);
                let now = Instant::now();
                if next_tick < now {
                    next_tick = later(now, self.tick_interval);
                }
            }
            self.ready()?;
            if self.maybe_mint()? {
                self.ready()?;
            }
        }
    }

    /// When the leader should next try to mint, if it wants to: a block time after the last
    /// attempt, or [`IDLE_RETRY`] after it when the last attempt built nothing and the pool has
    /// not changed since (a safety net: a race with block sync must not stop minting for good).
    fn mint_due(&self) -> Option<Instant> {
        let wants = self.node.is_leader()
            && !self.node.is_removed()
            && self.node.speculative().is_empty()
            && self.chain.pool().status().0 > 0;
        let gap = if self.pool_dirty { self.block_time } else { IDLE_RETRY.max(self.block_time) };
        wants.then(|| self.last_mint.map_or_else(Instant::now, |t| later(t, gap)))
    }

    fn maybe_mint(&mut self) -> Result<bool, EngineError> {
        let Some(due) = self.mint_due() else { return Ok(false) };
        if Instant::now() < due {
            return Ok(false);
        }
        let started = Instant::now();
        self.last_mint = Some(started);
        let now_ns = self.clock.ns_at(started);
        match self.node.mint(now_ns).map_err(fatal)? {
            Some(_) => {
                let proposed = Instant::now();
                self.stats.build =
                    self.stats.build.saturating_add(proposed.saturating_duration_since(started));
                self.in_flight = Some(proposed);
                Ok(true)
            }
            // The node would mint now, so the builder found nothing executable (or raft
            // dropped the proposal): wait for the pool.
            None if self.node.mint_target(now_ns).is_some() => {
                tracing::debug!(target: "consensus::raft", pending = self.chain.pool().status().0,
                    head = %self.chain.head().hash, parent = %self.node.speculative().head().hash,
                    "minter built nothing");
                self.pool_dirty = false;
                Ok(false)
            }
            // Not the leader in raft's own state any more (a tick stepped it down), or removed:
            // the next Ready says so; until then, retry after a block time.
            None => Ok(false),
        }
    }

    /// Handles one input; `false` = stop.
    fn handle(&mut self, input: Input) -> Result<bool, EngineError> {
        match input {
            Input::Shutdown => return Ok(false),
            Input::PoolReady => {
                self.pool_signal.store(false, Ordering::Release);
                self.pool_dirty = true;
            }
            Input::Raft { from, bytes } => self.step(from, &bytes)?,
            Input::Command(cmd) => self.command(cmd),
        }
        Ok(true)
    }

    fn step(&mut self, from: PeerId, bytes: &Bytes) -> Result<(), EngineError> {
        let msg = match Message::parse_from_bytes(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.network
                    .penalise(from, PenaltyReason::Application("malformed raft message".into()));
                tracing::debug!(target: "consensus::raft", %from, error = %e, "malformed raft message");
                return Ok(());
            }
        };
        let claimed = u16::try_from(msg.from).ok().and_then(|id| self.members.known_peer(id));
        if claimed != Some(from) {
            if claimed.is_some() {
                self.network.penalise(
                    from,
                    PenaltyReason::Application("raft message with another member's id".into()),
                );
            }
            tracing::debug!(target: "consensus::raft", %from, raft_from = msg.from, "dropping raft message from a non-member");
            return Ok(());
        }
        // Blocks are proposed by the leader only (GoQuorum's minter): a forwarded proposal may
        // carry membership changes (`raft_addPeer` & co. called on a follower), never blocks.
        if msg.msg_type == MessageType::MsgPropose
            && msg.entries.iter().any(|e| e.entry_type != EntryType::EntryConfChange)
        {
            self.network
                .penalise(from, PenaltyReason::Application("raft proposal from a peer".into()));
            return Ok(());
        }
        match self.node.step_message(msg) {
            Ok(()) => Ok(()),
            // The log storage failed: the node cannot go on (raft-rs's rule).
            Err(e @ RaftError::Raft(raft::Error::Store(_))) => Err(fatal(e)),
            Err(e @ (RaftError::Mdbx { .. } | RaftError::Io { .. } | RaftError::Chain(_))) => {
                Err(fatal(e))
            }
            // Anything else is about this one message: drop it.
            Err(e) => {
                tracing::debug!(target: "consensus::raft", %from, error = %e, "raft message refused");
                Ok(())
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::AddPeer { enode, learner, reply } => {
                let _ = reply.send(self.node.add_peer(&enode, learner));
            }
            Command::Promote { raft_id, reply } => {
                let _ = reply.send(self.node.promote_to_peer(raft_id));
            }
            Command::Remove { raft_id, reply } => {
                let _ = reply.send(self.node.remove_peer(raft_id));
            }
        }
    }

    /// `process_ready` until there is nothing left.
    fn ready(&mut self) -> Result<(), EngineError> {
        let was_leader = self.node.is_leader();
        // Each round persists and applies; more than a few rounds in a row means a busy node
        // (the next turn continues).
        for _ in 0..8 {
            // Messages leave as soon as raft-rs allows (before applying, which may execute a
            // block): a follower acknowledges new entries while it applies older ones.
            let mut failed = HashSet::new();
            let (network, members) = (&self.network, &self.members);
            let mut sent_early = 0usize;
            let mut send = |(to, bytes): (u64, Vec<u8>)| {
                sent_early = sent_early.saturating_add(1);
                if !send_raft(network, members, to, bytes) {
                    failed.insert(to);
                }
            };
            let out = self.node.process_ready_with(&mut send).map_err(fatal)?;
            if out.messages.is_empty() && out.applied.is_empty() && sent_early == 0 {
                break;
            }
            for (to, bytes) in out.messages {
                if !send_raft(&self.network, &self.members, to, bytes) {
                    failed.insert(to);
                }
            }
            for to in &failed {
                self.node.report_unreachable(*to);
            }
            for to in out.snapshots {
                self.node.report_snapshot(to, !failed.contains(&to));
            }
            if !out.applied.is_empty()
                && self.node.speculative().is_empty()
                && let Some(proposed) = self.in_flight.take()
            {
                self.stats.blocks = self.stats.blocks.saturating_add(1);
                self.stats.commit = self.stats.commit.saturating_add(proposed.elapsed());
            }
            let membership =
                out.applied.iter().any(|a| matches!(a.kind, AppliedKind::ConfChange(..)));
            if membership || !out.applied.is_empty() {
                self.pool_dirty = true;
            }
            if membership {
                self.refresh();
            } else {
                self.publish();
            }
        }
        if self.node.is_leader() && !was_leader {
            // A new minter looks at the pool it filled as a follower.
            self.pool_dirty = true;
        }
        Ok(())
    }

    /// Members changed: update the shared map, dial new members, drop removed ones.
    fn refresh(&mut self) {
        self.members.set_current(self.node.peers());
        let own = self.node.raft_id();
        let current: BTreeSet<u16> = self.node.peers().map(|p| p.raft_id).collect();
        for p in self.node.peers() {
            if p.raft_id != own
                && self.dialled.insert(p.raft_id)
                && let Err(e) = self.network.add_peer(network_enode(p))
            {
                tracing::warn!(target: "consensus::raft", raft_id = p.raft_id, error = %e, "cannot dial raft member");
            }
        }
        for id in self.node.removed_peer_ids() {
            if self.dialled.remove(&id)
                && let Some(key) = self.members.known_key(id)
            {
                let _ = self.network.remove_peer(&enode_of_key(&key));
            }
        }
        self.dialled.retain(|id| current.contains(id));
        self.publish();
    }

    /// Publishes the status RPC reads.
    fn publish(&self) {
        let connected: HashSet<PeerId> =
            self.network.peers().into_iter().map(|p| p.peer_id).collect();
        let cluster = self
            .node
            .cluster(|id| self.members.peer_of(id).is_some_and(|p| connected.contains(&p)));
        let leader = u16::try_from(self.node.leader_id()).unwrap_or(0);
        let role = self.node.role();
        if role != self.members.status().role {
            qrs_metrics::checkpoint::became(role);
        }
        self.members.set_status(RaftStatus {
            raft_id: self.node.raft_id(),
            role,
            leader,
            leader_node_id: self.node.leader_node_id().ok(),
            cluster,
            removed: self.node.is_removed(),
            applied_index: self.node.applied_index(),
            mint_stats: self.stats,
        });
    }
}
