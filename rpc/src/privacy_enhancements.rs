//! GoQuorum's privacy enhancements on the RPC side: the flag gate (chain and TM), the sender's
//! simulation (`simulateExecutionForPE`: the affected contracts' creation hashes, the PSV merkle
//! root) and `eth_getContractPrivacyMetadata`.
//!
//! `eth_getContractPrivacyMetadata` returns `creationTxHash` in **base64**: GoQuorum's
//! `EncryptedPayloadHash` marshals through its pointer `MarshalJSON` (`ToBase64`), and the field
//! is reached through a pointer (`*state.PrivacyMetadata`), so that is what a GoQuorum node
//! emits (the docs' hex example notwithstanding).

use alloy_primitives::{Address, Bytes};
use qrs_evm::{
    BlockContext, EvmConfig, StateDb, StateView,
    pe::{self, FLAG_MANDATORY_RECIPIENTS, FLAG_STANDARD_PRIVATE, FLAG_STATE_VALIDATION},
    simulate_private,
};
use qrs_ptm::{TmHash, base64_of};
use serde_json::{Value, json};

use crate::{
    Module, RegisterResult, blocking,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    privacy::{block_on, ptm},
};

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    blocking(m, "eth_getContractPrivacyMetadata", contract_privacy_metadata)?;
    Ok(())
}

/// GoQuorum's flag gate for sending: the metadata rules and privacy enhancements on at the head
/// block.
pub(crate) fn check_flag(
    c: &RpcContext,
    flag: Option<u64>,
    mandatory: Option<&Vec<String>>,
) -> RpcResult<()> {
    crate::call::check_privacy_metadata(flag, mandatory.is_some())?;
    let flag = flag.unwrap_or_default();
    if flag == u64::from(FLAG_STANDARD_PRIVATE) {
        return Ok(());
    }
    if !enabled(c) {
        return Err(RpcError::Rejected("PrivacyEnhancements are disabled. Can only accept transactions with PrivacyFlag=0(StandardPrivate).".into()));
    }
    Ok(())
}

/// GoQuorum's TM feature check before `/send` and `/sendsignedtx` (not `/storeraw`).
fn check_tm_features(c: &RpcContext, flag: u8) -> RpcResult<()> {
    if flag == FLAG_STANDARD_PRIVATE {
        return Ok(());
    }
    let features = ptm(c)?.features();
    if !features.privacy_enhancements {
        return Err(RpcError::Rejected(
            "private transaction manager does not support privacy enhancements".into(),
        ));
    }
    if flag == FLAG_MANDATORY_RECIPIENTS && !features.mandatory_recipients {
        return Err(RpcError::Rejected(
            "private transaction manager does not support mandatory recipients".into(),
        ));
    }
    Ok(())
}

/// Privacy enhancements at the head block (GoQuorum checks `CurrentBlock()`).
fn enabled(c: &RpcContext) -> bool {
    c.chain.spec().privacy_enhancements_at(c.chain.head().header.number)
}

/// What the sender adds to the TM request: the affected contracts' creation hashes (base64)
/// and, for flag 3, the merkle root (base64).
#[derive(Debug, Default)]
pub(crate) struct Enhancement {
    pub(crate) affected_contract_transactions: Vec<String>,
    pub(crate) exec_hash: Option<String>,
}

/// One private transaction as its sender's node simulates it.
pub(crate) struct Simulated<'a> {
    pub(crate) from: Address,
    pub(crate) to: Option<Address>,
    pub(crate) payload: &'a [u8],
    pub(crate) gas: u64,
    pub(crate) flag: u8,
}

/// GoQuorum's `checkAndHandlePrivateTransaction` contract check, the TM's feature check and
/// `simulateExecutionForPE`: nothing when privacy enhancements are off at the head.
pub(crate) fn enhance(c: &RpcContext, tx: &Simulated<'_>) -> RpcResult<Enhancement> {
    if !enabled(c) {
        return Ok(Enhancement::default());
    }
    check_tm_features(c, tx.flag)?;
    let reader = c.chain.reader()?;
    let head = c.chain.head().header;
    let private_root = reader.private_state_root(&head.state_root)?;
    if let (Some(to), true) = (tx.to, tx.flag != FLAG_STANDARD_PRIVATE) {
        // private state first, as GoQuorum's EthAPIState
        let record = match private_account(&reader, private_root, &to)? {
            Some(r) => Some(r),
            None => reader.account(&to)?,
        };
        if record.is_none_or(|r| r.code_hash == alloy_primitives::KECCAK256_EMPTY) {
            return Err(RpcError::Rejected("contract not found. cannot transact".into()));
        }
    }
    let cfg = EvmConfig::at(c.chain.spec(), head.number, head.timestamp);
    let ctx = BlockContext::from_header(&head);
    let public = StateDb::new(c.chain.reader()?, StateView::Latest);
    let private = StateDb::new(reader, StateView::Root(private_root));
    let simulation = simulate_private(
        public,
        private,
        &cfg,
        &ctx,
        tx.from,
        tx.to,
        Bytes::copy_from_slice(tx.payload),
        tx.gas,
        tx.flag == FLAG_STATE_VALIDATION,
    )
    .map_err(|e| RpcError::Rejected(e.to_string()))?;
    if !simulation.result.is_success() && tx.flag != FLAG_STANDARD_PRIVATE {
        return Err(crate::exec::failure(simulation.result));
    }
    let hashes = pe::sender_check(tx.flag, &simulation.affected)
        .map_err(|e| RpcError::Rejected(e.to_string()))?;
    tracing::debug!(target: "rpc::privacy", flag = tx.flag, affected = simulation.affected.len(),
        acoth = hashes.len(), "simulated private transaction");
    Ok(Enhancement {
        affected_contract_transactions: hashes.iter().map(|h| TmHash(h.0).to_base64()).collect(),
        exec_hash: (tx.flag == FLAG_STATE_VALIDATION)
            .then(|| base64_of(simulation.merkle_root.as_slice())),
    })
}

/// An account of the private state with root `root` (none in the empty state).
fn private_account(
    reader: &qrs_storage::ReadTx,
    root: alloy_primitives::B256,
    address: &Address,
) -> RpcResult<Option<qrs_storage::AccountRecord>> {
    if root == qrs_storage::trie::EMPTY_ROOT_HASH {
        return Ok(None);
    }
    Ok(reader.account_at(root, address)?)
}

/// `eth_getContractPrivacyMetadata(address)`: `{creationTxHash, privacyFlag, mandatoryFor?}` of a
/// contract created by a flag 1-3 transaction, from the head's private state.
fn contract_privacy_metadata(c: &RpcContext, a: crate::params::Args) -> RpcResult<Value> {
    let address: Address = a.at_most(1)?.req(0)?;
    let reader = c.chain.reader()?;
    let head = c.chain.head().header;
    let private_root = reader.private_state_root(&head.state_root)?;
    if private_account(&reader, private_root, &address)?.is_none() {
        return Err(RpcError::Rejected(format!(
            "{}: the provided address is not a private contract",
            alloy_primitives::hex::encode(address)
        )));
    }
    let Some(metadata) = reader.privacy_metadata(&address)? else {
        return Err(RpcError::Rejected(format!(
            "{}: no account extra data found",
            address.to_checksum(None)
        )));
    };
    let hash = TmHash(metadata.creation_tx_hash.0);
    let mut out = json!({
        "creationTxHash": hash.to_base64(),
        "privacyFlag": metadata.privacy_flag,
    });
    if metadata.privacy_flag == FLAG_MANDATORY_RECIPIENTS {
        let mandatory = block_on(ptm(c)?.mandatory(&hash))?;
        if mandatory.is_empty() {
            // GoQuorum returns (nil, nil)
            return Ok(Value::Null);
        }
        out["mandatoryFor"] = json!(mandatory);
    }
    Ok(out)
}
