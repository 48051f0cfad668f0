//! The QBFT state machine: sans-IO, driven by [`Input`]s, producing [`Ready`]s.
//!
//! Reference: GoQuorum `consensus/istanbul/qbft/core/{core,handler,preprepare,prepare,commit,
//! roundchange,justification,backlog}.go`. Differences, all on the safe side:
//! - justifications are checked strictly: every ROUND-CHANGE and PREPARE in a justification must
//!   be for this height (and the proposal's round), signed by distinct validators;
//! - COMMIT seals are verified when received, not only when the block is imported;
//! - the node persists [`SafetyState`] before sending, so a restart never signs two different
//!   blocks at the same height and round.

mod types;

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::{Address, B256};

pub use types::{BuildRequest, ChainHead, Config, Decided, Input, Ready, SafetyState};

use crate::{
    block::Proposal,
    crypto::{ValidatorKey, recover_digest},
    header::{ISTANBUL_DIGEST, qbft_seal_digest},
    messages::{
        Commit, Message, Prepare, Prepared, Preprepare, RoundChange, SignedRoundChange, View,
    },
};

/// The round state (GoQuorum `State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoundStep {
    /// Waiting for a PRE-PREPARE.
    AcceptRequest,
    /// PRE-PREPARE accepted, collecting PREPAREs.
    Preprepared,
    /// Prepared, collecting COMMITs.
    Prepared,
    /// Decided.
    Committed,
}

const KIND_PREPREPARE: u8 = 0;
const KIND_PREPARE: u8 = 1;
const KIND_COMMIT: u8 = 2;
/// Future messages kept per validator.
const BACKLOG_PER_SENDER: usize = 64;

/// The QBFT core of one validator.
#[derive(Debug)]
pub struct Core<B> {
    key: ValidatorKey,
    config: Config,
    head: ChainHead,
    now_ms: u64,
    round: u64,
    step: RoundStep,
    proposal: Option<B>,
    prepares: BTreeMap<Address, Prepare>,
    commits: BTreeMap<Address, Commit>,
    prepared: Option<(u64, B, Vec<Prepare>)>,
    round_changes: BTreeMap<u64, BTreeMap<Address, RoundChange<B>>>,
    preprepare_sent: Option<u64>,
    pending_block: Option<B>,
    build_requested: bool,
    future_preprepare: Option<(Address, Preprepare<B>)>,
    backlog: HashMap<Address, Vec<Message<B>>>,
    timer_ms: Option<u64>,
    safety: SafetyState,
    ready: Ready<B>,
}

impl<B: Proposal> Core<B> {
    /// Creates a core on `head` (the last committed block). `safety` is what was persisted
    /// before a restart, if anything.
    pub fn new(
        key: ValidatorKey,
        config: Config,
        head: ChainHead,
        now_ms: u64,
        safety: Option<SafetyState>,
    ) -> Self {
        let mut core = Self {
            key,
            config,
            head: head.clone(),
            now_ms,
            round: 0,
            step: RoundStep::AcceptRequest,
            proposal: None,
            prepares: BTreeMap::new(),
            commits: BTreeMap::new(),
            prepared: None,
            round_changes: BTreeMap::new(),
            preprepare_sent: None,
            pending_block: None,
            build_requested: false,
            future_preprepare: None,
            backlog: HashMap::new(),
            timer_ms: None,
            safety: safety.unwrap_or_default(),
            ready: Ready::default(),
        };
        core.start_height(head);
        core
    }

    /// The validator address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The height being decided.
    pub fn height(&self) -> u64 {
        self.head.number.saturating_add(1)
    }

    /// The current round.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// The current round step.
    pub fn round_step(&self) -> RoundStep {
        self.step
    }

    /// The proposer of the current round.
    pub fn proposer(&self) -> Option<Address> {
        self.head.validators.proposer(self.head.proposer, self.round)
    }

    fn quorum(&self) -> usize {
        self.head.validators.quorum_size(self.height(), self.config.ceil_2n_by_3_block)
    }

    fn view(&self) -> View {
        View { sequence: self.height(), round: self.round }
    }

    /// Feeds one input.
    pub fn step(&mut self, input: Input<B>) {
        match input {
            Input::Tick(now) => self.on_tick(now),
            Input::Message { code, payload } => match Message::<B>::decode(code, &payload) {
                Ok(msg) => self.on_message(msg),
                Err(e) => tracing::debug!(target: "qbft::core", %e, "undecodable message"),
            },
            Input::ProposalBuilt(block) => self.on_block_built(block),
            Input::BlockCommitted(head) => {
                if head.number >= self.height() {
                    self.start_height(head);
                }
            }
        }
    }

    /// Takes the outputs accumulated since the last call, if any.
    pub fn ready(&mut self) -> Option<Ready<B>> {
        self.ready.wake_at = self.next_wake();
        let r = std::mem::take(&mut self.ready);
        let empty = r.persist.is_none()
            && r.broadcast.is_empty()
            && r.build.is_none()
            && r.commit.is_none();
        if empty && r.wake_at.is_none() { None } else { Some(r) }
    }

    fn next_wake(&self) -> Option<u64> {
        let fut = self
            .future_preprepare
            .as_ref()
            .map(|(_, p)| p.block.header().timestamp.saturating_mul(1000));
        let empty_hold = self
            .pending_block
            .as_ref()
            .filter(|_| self.am_proposer() && self.round == 0)
            .map(|b| self.earliest_ms(b));
        [self.timer_ms, fut, empty_hold].into_iter().flatten().min()
    }

    // ----- heights, rounds, timers -------------------------------------------------------

    fn start_height(&mut self, head: ChainHead) {
        let height = head.number.saturating_add(1);
        self.head = head;
        self.round = 0;
        self.prepared = None;
        self.round_changes.clear();
        self.pending_block = None;
        self.build_requested = false;
        self.future_preprepare = None;
        if self.safety.height != height {
            self.safety = SafetyState { height, signed: Vec::new(), prepared: None };
        }
        self.reset_round();
        // Round 0 starts when the block period has elapsed (GoQuorum arms the timer when the
        // block request arrives, which the miner delays until then).
        let period = self.config.block_period_secs.max(self.config.empty_block_period_secs);
        let start_ms =
            self.head.timestamp.saturating_add(period).saturating_mul(1000).max(self.now_ms);
        self.timer_ms = Some(start_ms.saturating_add(self.config.round_timeout_ms(0)));
        if self.am_proposer() {
            self.request_build();
        }
        self.replay_backlog();
    }

    fn reset_round(&mut self) {
        self.step = RoundStep::AcceptRequest;
        self.proposal = None;
        self.prepares.clear();
        self.commits.clear();
        self.preprepare_sent = None;
    }

    fn start_round(&mut self, round: u64) {
        if round <= self.round {
            return;
        }
        self.round = round;
        self.reset_round();
        self.round_changes.retain(|r, _| *r >= round);
        self.timer_ms = Some(self.now_ms.saturating_add(self.config.round_timeout_ms(round)));
        if self.am_proposer() && self.pending_block.is_none() {
            self.request_build();
        }
        self.replay_backlog();
    }

    fn am_proposer(&self) -> bool {
        self.proposer() == Some(self.key.address())
    }

    fn request_build(&mut self) {
        if self.build_requested || self.pending_block.is_some() {
            return;
        }
        self.build_requested = true;
        self.ready.build = Some(BuildRequest {
            height: self.height(),
            round: self.round,
            not_before_secs: self.head.timestamp.saturating_add(self.config.block_period_secs),
        });
    }

    fn earliest_ms(&self, block: &B) -> u64 {
        let period = if block.is_empty() {
            self.config.block_period_secs.max(self.config.empty_block_period_secs)
        } else {
            self.config.block_period_secs
        };
        self.head.timestamp.saturating_add(period).saturating_mul(1000)
    }

    fn on_tick(&mut self, now: u64) {
        self.now_ms = self.now_ms.max(now);
        if let Some((from, pp)) = self.future_preprepare.take() {
            if pp.block.header().timestamp.saturating_mul(1000) <= self.now_ms {
                self.handle_preprepare(from, pp);
            } else {
                self.future_preprepare = Some((from, pp));
            }
        }
        if self.round == 0 && self.step == RoundStep::AcceptRequest {
            self.try_propose_round_zero();
        }
        if self.timer_ms.is_some_and(|t| t <= self.now_ms) && self.step != RoundStep::Committed {
            // GoQuorum handleTimeoutMsg: move to the next round and say so.
            let next = self.round.saturating_add(1);
            self.start_round(next);
            self.broadcast_round_change();
        }
    }

    fn on_block_built(&mut self, block: B) {
        if block.number() != self.height() || block.header().parent_hash != self.head.hash {
            return;
        }
        self.build_requested = false;
        self.pending_block = Some(block);
        if self.round == 0 {
            self.try_propose_round_zero();
        } else {
            self.try_propose_after_round_change();
        }
    }

    fn try_propose_round_zero(&mut self) {
        if !self.am_proposer()
            || self.preprepare_sent.is_some()
            || self.step != RoundStep::AcceptRequest
        {
            return;
        }
        let Some(block) = self.pending_block.clone() else { return };
        if self.earliest_ms(&block) > self.now_ms {
            return; // emptyblockperiod / blockperiod not elapsed yet
        }
        self.send_preprepare(block, Vec::new(), Vec::new());
    }

    // ----- signing with the safety record ----------------------------------------------------

    /// Records that we sign `kind` for `digest` at the current round; false if we already signed
    /// a different digest there.
    fn guard(&mut self, kind: u8, digest: B256) -> bool {
        let round = self.round;
        if let Some((_, _, d)) =
            self.safety.signed.iter().find(|(r, k, _)| *r == round && *k == kind)
        {
            return *d == digest;
        }
        self.safety.signed.push((round, kind, digest));
        self.ready.persist = Some(self.safety.clone());
        true
    }

    fn send(&mut self, msg: Message<B>) {
        self.ready.broadcast.push((msg.code(), msg.encode_payload()));
        // GoQuorum's Broadcast also posts to itself.
        self.on_message(msg);
    }

    fn send_preprepare(&mut self, block: B, rcs: Vec<SignedRoundChange>, prepares: Vec<Prepare>) {
        if !self.guard(KIND_PREPREPARE, block.hash()) {
            return;
        }
        self.preprepare_sent = Some(self.round);
        let pp = Preprepare::signed(&self.key, self.view(), block, rcs, prepares);
        self.send(Message::Preprepare(pp));
    }

    fn broadcast_round_change(&mut self) {
        let prepared =
            self.prepared.as_ref().map(|(r, b, _)| Prepared { round: *r, digest: b.hash() });
        let payload = SignedRoundChange::signed(&self.key, self.view(), prepared);
        let (block, justification) = match &self.prepared {
            Some((_, b, p)) => (Some(b.clone()), p.clone()),
            None => (None, Vec::new()),
        };
        self.send(Message::RoundChange(RoundChange {
            payload,
            prepared_block: block,
            justification,
        }));
    }

    // ----- message dispatch (GoQuorum checkMessage + backlog) --------------------------------

    fn on_message(&mut self, msg: Message<B>) {
        let Ok(from) = msg.signer() else { return };
        if !self.head.validators.contains(&from) {
            return;
        }
        let view = msg.view();
        let height = self.height();
        if view.sequence < height {
            return;
        }
        if view.sequence > height {
            self.store_backlog(from, msg);
            return;
        }
        match msg {
            Message::RoundChange(rc) => self.handle_round_change(from, rc),
            other => {
                if view.round > self.round {
                    self.store_backlog(from, other);
                    return;
                }
                if view.round < self.round {
                    return;
                }
                match other {
                    Message::Preprepare(pp) => self.handle_preprepare(from, pp),
                    Message::Prepare(p) => self.handle_prepare(from, p),
                    Message::Commit(c) => self.handle_commit(from, c),
                    Message::RoundChange(_) => {}
                }
            }
        }
    }

    fn store_backlog(&mut self, from: Address, msg: Message<B>) {
        if from == self.key.address() {
            return;
        }
        let q = self.backlog.entry(from).or_default();
        if q.len() < BACKLOG_PER_SENDER {
            q.push(msg);
        }
    }

    fn replay_backlog(&mut self) {
        let height = self.height();
        let round = self.round;
        let mut due = Vec::new();
        for q in self.backlog.values_mut() {
            let (now, later): (Vec<_>, Vec<_>) = q.drain(..).partition(|m| {
                let v = m.view();
                v.sequence == height && (v.round <= round || matches!(m, Message::RoundChange(_)))
            });
            q.extend(later.into_iter().filter(|m| m.view().sequence >= height));
            due.extend(now);
        }
        for m in due {
            self.on_message(m);
        }
    }

    // ----- PRE-PREPARE -----------------------------------------------------------------------

    fn handle_preprepare(&mut self, from: Address, pp: Preprepare<B>) {
        if self.step != RoundStep::AcceptRequest || Some(from) != self.proposer() {
            return;
        }
        if self.round > 0
            && !self.is_justified(
                &pp.block,
                &pp.round_change_justification,
                &pp.prepare_justification,
            )
        {
            tracing::debug!(target: "qbft::core", round = self.round, "unjustified PRE-PREPARE");
            return;
        }
        let h = pp.block.header();
        let valid = pp.block.number() == self.height()
            && h.parent_hash == self.head.hash
            // A re-proposed prepared block keeps its original author (GoQuorum verifySigner only
            // requires the coinbase to be a validator).
            && self.head.validators.contains(&h.beneficiary)
            && h.mix_hash == ISTANBUL_DIGEST
            && h.timestamp >= self.head.timestamp.saturating_add(self.config.block_period_secs);
        if !valid {
            tracing::debug!(target: "qbft::core", "invalid PRE-PREPARE block");
            return;
        }
        if h.timestamp.saturating_mul(1000) > self.now_ms {
            self.future_preprepare = Some((from, pp));
            return;
        }
        let digest = pp.block.hash();
        if !self.guard(KIND_PREPARE, digest) {
            return;
        }
        self.proposal = Some(pp.block);
        self.step = RoundStep::Preprepared;
        self.timer_ms = Some(self.now_ms.saturating_add(self.config.round_timeout_ms(self.round)));
        let prepare = Prepare::signed(&self.key, self.view(), digest);
        self.send(Message::Prepare(prepare));
        self.replay_backlog();
    }

    // ----- PREPARE ---------------------------------------------------------------------------

    fn handle_prepare(&mut self, from: Address, p: Prepare) {
        let Some(proposal) = self.proposal.clone() else {
            self.store_backlog(from, Message::Prepare(p));
            return;
        };
        if p.digest != proposal.hash() {
            return;
        }
        self.prepares.insert(from, p);
        if self.prepares.len() >= self.quorum() && self.step < RoundStep::Prepared {
            let digest = proposal.hash();
            let seal_digest = u32::try_from(self.round)
                .ok()
                .and_then(|r| qbft_seal_digest(proposal.header(), r).ok());
            let Some(seal_digest) = seal_digest else { return };
            if !self.guard(KIND_COMMIT, digest) {
                return;
            }
            self.prepared = Some((self.round, proposal, self.prepares.values().cloned().collect()));
            self.safety.prepared = Some((self.round, digest));
            self.ready.persist = Some(self.safety.clone());
            self.step = RoundStep::Prepared;
            let seal = self.key.sign_digest(&seal_digest);
            let commit = Commit::signed(&self.key, self.view(), digest, seal);
            self.send(Message::Commit(commit));
            self.replay_backlog();
        }
    }

    // ----- COMMIT ----------------------------------------------------------------------------

    fn handle_commit(&mut self, from: Address, c: Commit) {
        if self.step < RoundStep::Prepared {
            if self.step == RoundStep::AcceptRequest || self.proposal.is_some() {
                self.store_backlog(from, Message::Commit(c));
            }
            return;
        }
        let Some(proposal) = self.proposal.clone() else { return };
        if c.digest != proposal.hash() || self.step == RoundStep::Committed {
            return;
        }
        let Ok(round) = u32::try_from(self.round) else { return };
        let Ok(seal_digest) = qbft_seal_digest(proposal.header(), round) else { return };
        if recover_digest(&seal_digest, &c.commit_seal).ok() != Some(from) {
            return;
        }
        self.commits.insert(from, c);
        if self.commits.len() >= self.quorum() {
            self.step = RoundStep::Committed;
            self.timer_ms = None;
            let seals = self
                .commits
                .values()
                .filter_map(|c| <[u8; 65]>::try_from(c.commit_seal.as_ref()).ok())
                .collect();
            self.ready.commit = Some(Decided { block: proposal, seals, round });
        }
    }

    // ----- ROUND-CHANGE ----------------------------------------------------------------------

    fn valid_prepare_certificate(&self, digest: B256, round: u64, prepares: &[Prepare]) -> bool {
        let mut signers = Vec::new();
        for p in prepares {
            if p.view.sequence != self.height() || p.view.round != round || p.digest != digest {
                return false;
            }
            match p.signer() {
                Ok(a) if self.head.validators.contains(&a) && !signers.contains(&a) => {
                    signers.push(a)
                }
                _ => return false,
            }
        }
        signers.len() >= self.quorum()
    }

    fn handle_round_change(&mut self, from: Address, mut rc: RoundChange<B>) {
        let r = rc.payload.view.round;
        if r >= self.round {
            // Keep the prepared certificate only if it proves what the payload claims.
            let certified = match (&rc.payload.prepared, &rc.prepared_block) {
                (Some(p), Some(b)) => {
                    b.hash() == p.digest
                        && self.valid_prepare_certificate(p.digest, p.round, &rc.justification)
                }
                _ => false,
            };
            if !certified {
                rc.prepared_block = None;
                rc.justification.clear();
            }
            // Keep one future-round ROUND-CHANGE per sender (its latest) so a validator cannot
            // grow our memory by signing ROUND-CHANGEs for many rounds.
            let current = self.round;
            for (round, by_sender) in self.round_changes.range_mut(current.saturating_add(1)..) {
                if *round != r {
                    by_sender.remove(&from);
                }
            }
            self.round_changes.retain(|round, m| *round == current || !m.is_empty());
            self.round_changes.entry(r).or_default().insert(from, rc);
        }
        let current = self.round;
        let mut higher: Vec<Address> = self
            .round_changes
            .range(current.saturating_add(1)..)
            .flat_map(|(_, m)| m.keys().copied())
            .collect();
        higher.sort();
        higher.dedup();
        if higher.len() > self.head.validators.f() {
            // F+1 validators are ahead: join the lowest round above ours (GoQuorum
            // handleRoundChange).
            if let Some(next) =
                self.round_changes.range(current.saturating_add(1)..).map(|(r, _)| *r).next()
            {
                self.start_round(next);
                self.broadcast_round_change();
            }
            return;
        }
        self.try_propose_after_round_change();
    }

    /// The highest certified prepared round among the current round's ROUND-CHANGEs.
    fn highest_prepared(&self) -> Option<(u64, B, Vec<Prepare>)> {
        self.round_changes
            .get(&self.round)?
            .values()
            .filter_map(|rc| {
                let p = rc.payload.prepared?;
                rc.prepared_block.clone().map(|b| (p.round, b, rc.justification.clone()))
            })
            .max_by_key(|(r, _, _)| *r)
    }

    fn try_propose_after_round_change(&mut self) {
        if self.round == 0 || !self.am_proposer() || self.preprepare_sent.is_some() {
            return;
        }
        let Some(rcs) = self.round_changes.get(&self.round) else { return };
        if rcs.len() < self.quorum() {
            return;
        }
        let highest = self.highest_prepared();
        let limit = highest.as_ref().map(|(r, _, _)| *r);
        // Justify with the ROUND-CHANGEs whose prepared round is not above the one re-proposed.
        let payloads: Vec<SignedRoundChange> = rcs
            .values()
            .map(|rc| rc.payload.clone())
            .filter(|p| match (effective_prepared(p), limit) {
                (None, _) => true,
                (Some(pr), Some(l)) => pr.round <= l,
                (Some(_), None) => false,
            })
            .collect();
        let (block, prepares) = match highest {
            Some((_, b, p)) => (b, p),
            None => match self.pending_block.clone() {
                Some(b) => (b, Vec::new()),
                None => {
                    self.request_build();
                    return;
                }
            },
        };
        if self.is_justified(&block, &payloads, &prepares) {
            self.send_preprepare(block, payloads, prepares);
        }
    }

    /// QBFT `justifyPrePrepare` (GoQuorum `isJustified`), checked strictly: a quorum of
    /// ROUND-CHANGEs for this height and round from distinct validators, and either none of them
    /// prepared, or the proposal is the block of the highest prepared round with a quorum of
    /// PREPAREs for it.
    fn is_justified(&self, block: &B, rcs: &[SignedRoundChange], prepares: &[Prepare]) -> bool {
        let quorum = self.quorum();
        let mut signers = Vec::new();
        for rc in rcs {
            if rc.view != self.view() {
                return false;
            }
            match rc.signer() {
                Ok(a) if self.head.validators.contains(&a) && !signers.contains(&a) => {
                    signers.push(a)
                }
                _ => return false,
            }
        }
        if signers.len() < quorum {
            return false;
        }
        match prepares.first() {
            // Nothing re-proposed: a quorum of the ROUND-CHANGEs prepared nothing.
            None => rcs.iter().filter(|rc| effective_prepared(rc).is_none()).count() >= quorum,
            // Re-proposal: a certified block of round `pr`, a quorum of ROUND-CHANGEs that prepared
            // nothing or at most `pr`, one of them naming this block at `pr`
            // (GoQuorum hasQuorumOfRoundChangeMessagesForPreparedRoundAndBlock).
            Some(first) => {
                let pr = first.view.round;
                let digest = block.hash();
                let lower_or_equal = rcs
                    .iter()
                    .filter(|rc| effective_prepared(rc).is_none_or(|p| p.round <= pr))
                    .count();
                let matching = rcs
                    .iter()
                    .any(|rc| effective_prepared(rc) == Some(Prepared { round: pr, digest }));
                lower_or_equal >= quorum
                    && matching
                    && self.valid_prepare_certificate(digest, pr, prepares)
            }
        }
    }
}

/// A ROUND-CHANGE's prepared claim; a zero digest means "nothing" (GoQuorum encodes it so).
fn effective_prepared(rc: &SignedRoundChange) -> Option<Prepared> {
    rc.prepared.filter(|p| p.digest != B256::ZERO)
}
