//! Private transactions in the chain: a block's payloads are fetched from the transaction
//! manager all at once before the block executes, and the block's private writes (this node's
//! private state, receipts, bloom) are committed in the block's write transaction.
//!
//! A fetch failure other than "not a party" stops the build or import with
//! [`ChainError::PrivatePayloads`]: the block is not committed, so the private state never
//! silently diverges; the engine or sync retries later.

use std::{collections::HashSet, sync::Arc};

use alloy_consensus::TxEnvelope;
use alloy_primitives::{B256, B512, Bytes};
use qrs_evm::{
    BlockOutcome, PrivateInputs, StateDb, StateView, pe::TxPrivacyMetadata, private_payload_hash,
};
use qrs_storage::{PrivateBlockWrite, ReadTx, compute_state_update, private_loc};

use crate::{Chain, ChainError};

/// Where the payloads of private transactions come from (the node's transaction manager).
///
/// Called on the chain's blocking threads. Implementations fetch every hash concurrently
/// (one call per block, never one blocking call per transaction).
pub trait PrivatePayloads: Send + Sync + std::fmt::Debug {
    /// The payloads of `hashes`, in order: `Some` = this node is a party, `None` = not a party
    /// (the TM answered 404). `Err` = the TM failed (after its retries): the block must not be
    /// executed.
    fn fetch(&self, hashes: &[B512]) -> Result<Vec<Option<Vec<u8>>>, String>;

    /// [`Self::fetch`] with the TM's privacy metadata of each payload (privacy flag, affected
    /// contracts' creation hashes, PSV merkle root). The default has none (flag 0).
    fn fetch_with_metadata(&self, hashes: &[B512]) -> Result<Vec<Option<ReceivedPayload>>, String> {
        Ok(self
            .fetch(hashes)?
            .into_iter()
            .map(|p| p.map(|payload| (payload, TxPrivacyMetadata::default())))
            .collect())
    }
}

/// A payload this node is party to, with its privacy metadata.
pub type ReceivedPayload = (Vec<u8>, TxPrivacyMetadata);

impl Chain {
    /// Sets where private payloads come from. Without a source this node is a party to no
    /// private transaction (GoQuorum without a TM).
    pub fn set_private_payloads(&self, source: Arc<dyn PrivatePayloads>) {
        *self.inner.private_payloads.write() = Some(source);
    }

    /// The private state root after block `number` on this node.
    pub fn private_state_root(&self, number: u64) -> Result<B256, ChainError> {
        let reader = self.reader()?;
        let header = reader.header(number)?.ok_or(ChainError::UnknownBlock(number))?;
        Ok(reader.private_state_root(&header.state_root)?)
    }

    /// The private inputs of a block on the state `parent_public_root`: the parent's private
    /// state and the payloads of every private transaction among `txs`, fetched at once.
    pub(crate) fn private_inputs<'a>(
        &self,
        reader: ReadTx,
        parent_public_root: &B256,
        txs: impl IntoIterator<Item = &'a TxEnvelope>,
    ) -> Result<PrivateInputs, ChainError> {
        let parent_private_root = reader.private_state_root(parent_public_root)?;
        let txs: Vec<&TxEnvelope> = txs.into_iter().collect();
        let mut seen = HashSet::new();
        let hashes: Vec<B512> = txs
            .iter()
            .filter_map(|tx| private_payload_hash(tx))
            .filter(|h| seen.insert(*h))
            .collect();
        let mut payloads = qrs_evm::PrivatePayloads::default();
        let mut metadata = std::collections::HashMap::new();
        let source = self.inner.private_payloads.read().clone();
        // privacy marker transactions: their inner transactions first, then the inner payloads
        // join the block's other payloads
        let markers = match &source {
            Some(source) if self.privacy_markers_possible() => {
                fetch_markers(source.as_ref(), &txs)?
            }
            _ => Default::default(),
        };
        let mut hashes = hashes;
        for (inner, _) in markers.values() {
            if let Some(h) = private_payload_hash(inner)
                && seen.insert(h)
            {
                hashes.push(h);
            }
        }
        if let (Some(source), false) = (source, hashes.is_empty()) {
            let started = std::time::Instant::now();
            let fetched =
                source.fetch_with_metadata(&hashes).map_err(ChainError::PrivatePayloads)?;
            if fetched.len() != hashes.len() {
                return Err(ChainError::PrivatePayloads(format!(
                    "asked for {} payloads, got {}",
                    hashes.len(),
                    fetched.len()
                )));
            }
            tracing::debug!(target: "chain::private", count = hashes.len(),
                parties = fetched.iter().filter(|p| p.is_some()).count(),
                elapsed_ms = started.elapsed().as_millis() as u64, "fetched private payloads");
            for (hash, received) in hashes.into_iter().zip(fetched) {
                let payload = received.map(|(payload, meta)| {
                    if meta != TxPrivacyMetadata::default() {
                        metadata.insert(hash, meta);
                    }
                    Bytes::from(payload)
                });
                payloads.insert(hash, payload);
            }
        }
        Ok(PrivateInputs {
            state: StateDb::new(reader, StateView::Root(parent_private_root)),
            payloads,
            metadata,
            markers,
        })
    }
}

impl Chain {
    /// GoQuorum's pool check of a privacy marker transaction (`validateTx`, for transactions
    /// from RPC and from peers alike): when this node's TM holds the inner transaction (it is a
    /// party), the inner transaction must pass the checks the pool applies to any transaction,
    /// and its error is the answer. As in GoQuorum, an inner transaction that cannot be fetched
    /// or decoded (not a party, TM unreachable) is not checked here; the precompile skips a bad
    /// one in the block. Blocks on the TM: call it from a blocking thread.
    pub fn check_marker(&self, tx: &qrs_primitives::RecoveredTx) -> Result<(), ChainError> {
        if !qrs_evm::pmt::is_privacy_marker(tx.inner()) {
            return Ok(());
        }
        let Some(source) = self.inner.private_payloads.read().clone() else { return Ok(()) };
        let inner = match fetch_markers(source.as_ref(), &[tx.inner()]) {
            Ok(markers) => markers.into_values().next(),
            Err(e) => {
                tracing::debug!(target: "chain::private", hash = %tx.inner().tx_hash(), error = %e,
                    "privacy marker's inner transaction not checked: the TM failed");
                None
            }
        };
        let Some((inner, signer)) = inner else { return Ok(()) };
        self.check_admissible(&qrs_primitives::RecoveredTx::new_unchecked(inner, signer))
    }

    /// True when the genesis turns the privacy precompile on at some block
    /// (`privacyPrecompileBlock`, or a `privacyPrecompileEnabled: true` transition): only then
    /// are PMT payloads fetched (the executor decides per block).
    fn privacy_markers_possible(&self) -> bool {
        let config = &self.inner.spec.config;
        config.privacy_precompile_block.is_some()
            || config.transitions.iter().any(|t| t.privacy_precompile_enabled == Some(true))
    }
}

/// The inner transactions of the privacy marker transactions among `txs` that this node is
/// party to, by the PMT's TM hash, fetched at once. A payload that is not a transaction in
/// geth's JSON form is left out (the precompile skips it).
fn fetch_markers(
    source: &dyn PrivatePayloads,
    txs: &[&TxEnvelope],
) -> Result<std::collections::HashMap<B512, (TxEnvelope, alloy_primitives::Address)>, ChainError> {
    let mut seen = HashSet::new();
    let hashes: Vec<B512> = txs
        .iter()
        .filter_map(|tx| qrs_evm::pmt::marker_payload_hash(tx))
        .filter(|h| seen.insert(*h))
        .collect();
    let mut markers = std::collections::HashMap::new();
    if hashes.is_empty() {
        return Ok(markers);
    }
    let fetched = source.fetch(&hashes).map_err(ChainError::PrivatePayloads)?;
    for (hash, payload) in hashes.into_iter().zip(fetched) {
        let Some(payload) = payload else { continue };
        match qrs_evm::pmt::decode_tx_json(&payload) {
            Ok(inner) => {
                markers.insert(hash, inner);
            }
            Err(e) => {
                tracing::warn!(target: "chain::private", %hash, error = %e,
                    "privacy marker payload is not a transaction")
            }
        }
    }
    Ok(markers)
}

/// GoQuorum's `MergeReceipts`: each private transaction's receipt as this node sees it (its
/// private receipt: status, logs, contract address; the public cumulative gas).
pub(crate) fn merge_receipts(
    block: &qrs_storage::StoredBlock,
    receipts: &mut [qrs_storage::StoredReceipt],
    private: &[(B256, qrs_storage::StoredReceipt)],
) {
    if private.is_empty() {
        return;
    }
    let by_hash: std::collections::HashMap<&B256, &qrs_storage::StoredReceipt> =
        private.iter().map(|(h, r)| (h, r)).collect();
    for (tx, receipt) in block.transactions.iter().zip(receipts.iter_mut()) {
        if let Some(p) = by_hash.get(tx.tx_hash()) {
            *receipt = qrs_storage::StoredReceipt {
                cumulative_gas_used: receipt.cumulative_gas_used,
                gas_used: 0,
                ..(*p).clone()
            };
        }
    }
}

/// A block's private writes: the private state update on top of the parent's private state,
/// keyed by the block's public state root.
pub(crate) fn private_write(
    reader: &ReadTx,
    parent_public_root: &B256,
    public_root: B256,
    number: u64,
    outcome: &BlockOutcome,
) -> Result<PrivateBlockWrite, ChainError> {
    let parent_private_root = reader.private_state_root(parent_public_root)?;
    let private = &outcome.private;
    let state =
        compute_state_update(reader, parent_private_root, &private.changes, private_loc(number))?;
    Ok(PrivateBlockWrite {
        public_root,
        private_root: state.state_root,
        state,
        receipts: private.receipts.clone(),
        bloom: (number, private.logs_bloom),
        metadata: private.metadata.clone(),
    })
}
