//! Proposals: building ours (with the block period and `emptyblockperiodseconds` holds) and
//! executing peers' before the core may vote for them.

use std::time::Duration;

use alloy_consensus::TxEnvelope;
use alloy_primitives::{B256, Bytes};
use alloy_rlp::Decodable;
use qrs_chain::{BuildAttributes, BuiltBlock, ChainError};
use qrs_network::{PeerId, PenaltyReason};
use qrs_qbft::{
    ISTANBUL_DIGEST, Proposal, QbftExtra, RawBlock, ValidatorVote,
    core::{BuildRequest, Input},
};

use super::{Driver, now_ms};
use crate::{
    EngineError,
    qbft::{Shared, wire},
};

impl Driver {
    /// A peer's proposal finished executing: hand its messages to the core, or drop them and
    /// penalise the senders.
    pub(super) fn on_verified(&mut self, hash: B256, res: Result<BuiltBlock, ChainError>) {
        let Some(waiting) = self.verifying.remove(&hash) else { return };
        match res {
            Ok(built) if built.block.header.number == self.core.height() => {
                self.built.insert(hash, built);
                for (_, frame) in waiting {
                    if let Ok((code, payload)) = wire::decode_frame(&frame) {
                        self.core.step(Input::Message { code, payload: payload.to_vec() });
                    }
                }
            }
            Ok(_) | Err(ChainError::NotOnHead { .. }) => {
                tracing::debug!(target: "consensus::qbft", %hash, "proposal no longer extends the head");
            }
            Err(e) => {
                tracing::warn!(target: "consensus::qbft", %hash, %e, "invalid proposal");
                for (from, _) in waiting {
                    let reason = format!("qbft: invalid proposal: {e}");
                    self.network.penalise(from, PenaltyReason::Application(reason.into()));
                }
            }
        }
    }

    /// Executes a peer's proposal on the blocking pool; its message waits until then.
    pub(super) fn verify_proposal(&mut self, from: PeerId, frame: &[u8], block: &RawBlock) {
        let hash = block.hash();
        if let Some(waiting) = self.verifying.get_mut(&hash) {
            waiting.push((from, frame.to_vec()));
            return;
        }
        let txs = match Vec::<TxEnvelope>::decode(&mut block.transactions_rlp().as_ref()) {
            Ok(t) => t,
            Err(e) => {
                let reason = format!("qbft: proposal transactions: {e}");
                return self.network.penalise(from, PenaltyReason::Application(reason.into()));
            }
        };
        self.verifying.insert(hash, vec![(from, frame.to_vec())]);
        let chain = self.shared.chain.clone();
        let header = block.header().clone();
        let tx = self.verified_tx.clone();
        tokio::spawn(async move {
            let res = tokio::task::spawn_blocking(move || chain.execute_block(header, txs)).await;
            let res = res.unwrap_or_else(|e| {
                Err(ChainError::InvalidBlock { number: 0, reason: format!("task: {e}") })
            });
            let _ = tx.send((hash, res)).await;
        });
    }

    /// Nothing to include at the block period: wait for a transaction or the empty period.
    pub(super) fn hold_empty(&mut self, req: BuildRequest) {
        if req.height != self.core.height() {
            return;
        }
        let at = self.head.timestamp.saturating_add(self.config.empty_block_period_secs);
        self.holding_empty = Some(req);
        self.empty_deadline = Some(at.saturating_mul(1000));
    }

    /// Builds the held proposal now (a transaction arrived, or the empty period is over).
    pub(super) fn build_held(&mut self) {
        self.empty_deadline = None;
        if let Some(req) = self.holding_empty.take()
            && req.height == self.core.height()
        {
            self.spawn_build(req, true);
        }
    }

    pub(super) fn on_built(&mut self, built: BuiltBlock) {
        let txs = alloy_rlp::encode(&built.block.transactions);
        let raw = RawBlock::with_transactions(built.block.header.clone(), Bytes::from(txs));
        self.built.insert(raw.hash(), built);
        self.core.step(Input::ProposalBuilt(raw));
    }

    /// Builds a proposal at `not_before_secs`. Unless `force`, an empty pool with an empty block
    /// period longer than the block period answers "hold" (`None`) instead.
    pub(super) fn spawn_build(&self, req: BuildRequest, force: bool) {
        let shared = self.shared.clone();
        let tx = self.built_tx.clone();
        let may_hold =
            !force && self.config.empty_block_period_secs > self.config.block_period_secs;
        tokio::spawn(async move {
            let wait = req.not_before_secs.saturating_mul(1000).saturating_sub(now_ms());
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if may_hold && req.round == 0 && shared.chain.pool().status().0 == 0 {
                let _ = tx.send(Ok((None, req))).await;
                return;
            }
            let res = tokio::task::spawn_blocking(move || build(&shared, req))
                .await
                .map_err(|e| EngineError::Task(e.to_string()))
                .and_then(|r| r);
            match res {
                Ok(Some(built)) => {
                    let _ = tx.send(Ok((Some(built), req))).await;
                }
                Ok(None) => {}
                Err(EngineError::Chain(e)) => {
                    tracing::warn!(target: "consensus::qbft", %e, height = req.height, "building a proposal failed");
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                }
            }
        });
    }
}

/// Builds the proposal for `req` on the chain's head (GoQuorum QBFT `Prepare`): coinbase = us,
/// mixHash = IstanbulDigest, difficulty 1, extraData with the validators and our queued vote.
fn build(shared: &Shared, req: BuildRequest) -> Result<Option<BuiltBlock>, EngineError> {
    let head = shared.chain.head();
    if head.header.number.saturating_add(1) != req.height {
        return Ok(None); // the head moved on
    }
    let snap = shared.snapshots.at_number(head.header.number)?;
    let vote = shared
        .candidates
        .lock()
        .next_vote(&snap)
        .map(|(address, authorize)| ValidatorVote::new(address, authorize));
    let mut validators = snap.validators.list().to_vec();
    validators.sort();
    let extra = QbftExtra {
        vanity: Bytes::from(vec![0u8; 32]),
        validators,
        vote,
        round: 0,
        committed_seals: Vec::new(),
    };
    let attrs = BuildAttributes {
        timestamp: req.not_before_secs.max(qrs_chain::now_secs()),
        beneficiary: shared.address,
        extra_data: extra.to_extra_bytes(),
        mix_hash: ISTANBUL_DIGEST,
        difficulty: alloy_primitives::U256::from(1u8),
        nonce: Default::default(),
    };
    Ok(Some(shared.chain.build_block(attrs)?))
}
