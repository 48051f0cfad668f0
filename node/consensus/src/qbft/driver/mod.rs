//! The driver loop around the sans-IO core.
//!
//! One task owns the [`Core`]. It feeds it timer ticks (at `Ready::wake_at`), consensus messages
//! from the network, built proposals and new chain heads, and handles each `Ready` in order:
//! 1. `persist`: the safety record is written durably ([`SafetyStore`]) before anything else;
//! 2. `broadcast`: framed messages to every peer (only while this node is a validator);
//! 3. `build`: a block is built on the blocking pool, no earlier than `not_before_secs`;
//! 4. `commit`: the committed seals are written into the extraData and the block is committed
//!    (our own proposal, or a peer's proposal we executed when it arrived) or imported.
//!
//! A peer's PRE-PREPARE reaches the core only after its block executed on our head with
//! matching roots ([`Chain::execute_block`](qrs_chain::Chain::execute_block)), so a validator
//! never votes for a block it could not import (GoQuorum `backend.Verify`). PRE-PREPAREs for a
//! later height wait in the driver until the chain gets there.

use std::{collections::HashMap, sync::Arc, time::Duration};

/// PRE-PREPAREs for later heights kept until the chain catches up.
const MAX_HELD: usize = 16;

use alloy_consensus::TxEnvelope;
use alloy_primitives::B256;
use alloy_rlp::Decodable;
use qrs_chain::{BuiltBlock, ChainError, ChainEvent};
use qrs_network::{NetworkEvent, NetworkHandle, PeerId, PenaltyReason, Topic};
use qrs_qbft::{
    Proposal, RawBlock, ValidatorKey,
    core::{BuildRequest, ChainHead, Config, Core, Decided, Input, SafetyState},
    header::commit_qbft_header,
    messages::Message,
};
use tokio::sync::{broadcast, mpsc, watch};

mod proposals;

use super::{QbftError, Shared, safety::SafetyStore, wire};
use crate::{EngineDeps, EngineError};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// The [`ChainHead`] the core needs for the chain's current head.
pub(crate) fn chain_head(shared: &Shared) -> Result<ChainHead, QbftError> {
    let head = shared.chain.head();
    let snap = shared.snapshots.at_number(head.header.number)?;
    Ok(ChainHead {
        number: head.header.number,
        hash: head.hash,
        timestamp: head.header.timestamp,
        proposer: if head.header.number == 0 {
            alloy_primitives::Address::ZERO
        } else {
            head.header.beneficiary
        },
        validators: snap.validators,
    })
}

struct Driver {
    shared: Arc<Shared>,
    network: NetworkHandle,
    key: ValidatorKey,
    store: SafetyStore,
    core: Core<RawBlock>,
    config: Config,
    head: ChainHead,
    safety: Option<SafetyState>,
    /// Our own built proposals by istanbul hash (committed without re-execution).
    built: HashMap<B256, BuiltBlock>,
    built_tx: mpsc::Sender<Result<(Option<BuiltBlock>, BuildRequest), EngineError>>,
    /// Proposals being executed, with the messages that carry them.
    verifying: HashMap<B256, Vec<(PeerId, Vec<u8>)>>,
    verified_tx: mpsc::Sender<(B256, Result<BuiltBlock, ChainError>)>,
    /// Future-height PRE-PREPARE frames.
    held: Vec<(PeerId, Vec<u8>)>,
    /// The pool was empty at the block period and `emptyblockperiodseconds` is longer: the
    /// proposal is built when a transaction arrives or at the empty period (`empty_deadline`).
    holding_empty: Option<BuildRequest>,
    empty_deadline: Option<u64>,
}

pub(crate) async fn run(
    deps: EngineDeps,
    key: ValidatorKey,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), EngineError> {
    let store = SafetyStore::new(&deps.datadir);
    let safety = store.load()?;
    let mut net_rx = deps.network.events();
    let mut chain_rx = deps.chain.subscribe();
    let (built_tx, mut built_rx) = mpsc::channel(4);
    let (verified_tx, mut verified_rx) = mpsc::channel(16);
    let head = chain_head(&shared)?;
    let config = config_for(&shared, head.number)?;
    let core = Core::new(key.clone(), config.clone(), head.clone(), now_ms(), safety.clone());
    tracing::info!(target: "consensus::qbft", address = %key.address(), height = core.height(),
        validator = head.validators.contains(&key.address()), "qbft engine started");
    let mut d = Driver {
        shared,
        network: deps.network,
        key,
        store,
        core,
        config,
        head,
        safety,
        built: HashMap::new(),
        built_tx,
        verifying: HashMap::new(),
        verified_tx,
        held: Vec::new(),
        holding_empty: None,
        empty_deadline: None,
    };
    let mut pending_rx = d.shared.chain.pool().subscribe();
    loop {
        let wake = d.drain().await?;
        let wake = [wake, d.empty_deadline].into_iter().flatten().min();
        let sleep = async {
            match wake {
                Some(at) => {
                    let wait = at.saturating_sub(now_ms());
                    tokio::time::sleep(Duration::from_millis(wait)).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return Ok(());
                }
            }
            ev = chain_rx.recv() => match ev {
                Ok(ChainEvent::NewBlock(_)) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    d.on_new_head()?;
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            Some(built) = built_rx.recv() => {
                let (built, req) = built?;
                match built {
                    Some(built) => d.on_built(built),
                    None => d.hold_empty(req),
                }
            }
            Some((hash, res)) = verified_rx.recv() => d.on_verified(hash, res),
            _ = pending_rx.recv(), if d.holding_empty.is_some() => d.build_held(),
            ev = net_rx.recv() => match ev {
                Some(NetworkEvent::Message { from, topic: Topic::Consensus, bytes }) => {
                    d.on_message(from, &bytes);
                }
                Some(_) => {}
                None => {
                    return Err(EngineError::Fatal { engine: "qbft", reason: "network stopped".into() });
                }
            },
            () = sleep => {
                let now = now_ms();
                if d.empty_deadline.is_some_and(|t| t <= now) {
                    d.build_held();
                }
                d.core.step(Input::Tick(now));
            }
        }
    }
}

fn config_for(shared: &Shared, head: u64) -> Result<Config, QbftError> {
    shared.options.core_config(shared.chain.spec(), head.saturating_add(1))
}

impl Driver {
    fn is_validator(&self) -> bool {
        self.head.validators.contains(&self.key.address())
    }

    /// Handles every pending `Ready`; returns when the core next wants a tick.
    async fn drain(&mut self) -> Result<Option<u64>, EngineError> {
        super::metrics::observe(self.core.height(), self.core.round());
        loop {
            let Some(ready) = self.core.ready() else { return Ok(None) };
            let idle = ready.persist.is_none()
                && ready.broadcast.is_empty()
                && ready.build.is_none()
                && ready.commit.is_none();
            if idle {
                return Ok(ready.wake_at);
            }
            if let Some(state) = ready.persist {
                let store = self.store.clone();
                let saved = state.clone();
                tokio::task::spawn_blocking(move || store.save(&saved))
                    .await
                    .map_err(|e| EngineError::Task(e.to_string()))??;
                self.safety = Some(state);
            }
            if self.is_validator() {
                for (code, payload) in ready.broadcast {
                    let frame = wire::encode_frame(code, &payload);
                    if let Err(e) = self.network.broadcast(Topic::Consensus, frame) {
                        tracing::warn!(target: "consensus::qbft", %e, "broadcast failed");
                    }
                }
            }
            if let Some(req) = ready.build {
                self.spawn_build(req, false);
            }
            if let Some(decided) = ready.commit {
                self.commit(decided).await;
                self.on_new_head()?;
            }
        }
    }

    /// The chain moved (our commit, a peer's block by sync): start the next height.
    fn on_new_head(&mut self) -> Result<(), EngineError> {
        let number = self.shared.chain.head().header.number;
        if number < self.core.height() {
            return Ok(());
        }
        let head = chain_head(&self.shared)?;
        self.built.retain(|_, b| b.block.header.number > head.number);
        let config = config_for(&self.shared, head.number)?;
        self.head = head.clone();
        self.verifying.clear();
        self.holding_empty = None;
        self.empty_deadline = None;
        if config != self.config {
            // A transition changed the timing or quorum rules: a fresh core for the new height,
            // keeping what we signed.
            tracing::info!(target: "consensus::qbft", height = head.number.saturating_add(1), ?config, "qbft settings changed");
            self.config = config.clone();
            self.core = Core::new(self.key.clone(), config, head, now_ms(), self.safety.clone());
        } else {
            self.core.step(Input::BlockCommitted(head));
        }
        for (from, frame) in std::mem::take(&mut self.held) {
            self.on_message(from, &frame);
        }
        Ok(())
    }

    fn on_message(&mut self, from: PeerId, frame: &[u8]) {
        let penalise = |reason: String| {
            tracing::debug!(target: "consensus::qbft", %from, %reason, "bad consensus message");
            self.network.penalise(from, PenaltyReason::Application(reason.into()));
        };
        let (code, payload) = match wire::decode_frame(frame) {
            Ok(x) => x,
            Err(e) => return penalise(format!("qbft: {e}")),
        };
        let msg = match Message::<RawBlock>::decode(code, payload) {
            Ok(m) => m,
            Err(e) => return penalise(format!("qbft: {e}")),
        };
        let signer = match msg.signer() {
            Ok(s) => s,
            Err(e) => return penalise(format!("qbft: {e}")),
        };
        if !self.head.validators.contains(&signer) {
            // For the current height we know the validator set; other heights are dropped
            // silently (a validator added or removed at a block we have not reached yet).
            if msg.view().sequence == self.core.height() {
                penalise(format!("qbft: message from non-validator {signer}"));
            }
            return;
        }
        if let Message::Preprepare(pp) = &msg {
            let height = self.core.height();
            if pp.view.sequence > height {
                if self.held.len() < MAX_HELD {
                    self.held.push((from, frame.to_vec()));
                }
                return;
            }
            if pp.view.sequence == height && !self.built.contains_key(&pp.block.hash()) {
                return self.verify_proposal(from, frame, &pp.block);
            }
        }
        self.core.step(Input::Message { code, payload: payload.to_vec() });
    }

    async fn commit(&mut self, decided: Decided<RawBlock>) {
        let hash = decided.block.hash();
        let number = decided.block.number();
        let mut header = decided.block.header().clone();
        if let Err(e) = commit_qbft_header(&mut header, &decided.seals, decided.round) {
            tracing::error!(target: "consensus::qbft", %e, number, "cannot write committed seals");
            return;
        }
        let chain = self.shared.chain.clone();
        let own = self.built.remove(&hash);
        let txs_rlp = decided.block.transactions_rlp().clone();
        let res = tokio::task::spawn_blocking(move || -> Result<(), ChainError> {
            match own {
                Some(mut built) => {
                    built.set_extra_data(header.extra_data);
                    chain.commit_block(built)
                }
                None => {
                    let txs = Vec::<TxEnvelope>::decode(&mut txs_rlp.as_ref()).map_err(|e| {
                        ChainError::InvalidBlock { number, reason: format!("transactions: {e}") }
                    })?;
                    chain.import_block(header, txs)
                }
            }
        })
        .await;
        match res {
            Ok(Ok(())) => {
                tracing::debug!(target: "consensus::qbft", number, %hash, round = decided.round, seals = decided.seals.len(), "qbft block committed");
            }
            Ok(Err(ChainError::NotOnHead { .. })) => {
                tracing::debug!(target: "consensus::qbft", number, "decided block already imported");
            }
            Ok(Err(e)) => {
                tracing::error!(target: "consensus::qbft", %e, number, %hash, "committing a decided block failed");
            }
            Err(e) => tracing::error!(target: "consensus::qbft", %e, "commit task failed"),
        }
    }
}
