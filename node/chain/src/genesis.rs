//! Writing the genesis block on first open.

use alloy_primitives::{Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
use qrs_chainspec::ChainSpec;
use qrs_storage::{
    AccountChange, AccountInfo, Env, StateChanges, StoredBlock, compute_state_update, public_loc,
};

use crate::ChainError;

/// The genesis allocation as state changes.
pub(crate) fn genesis_changes(spec: &ChainSpec) -> StateChanges {
    let mut changes = StateChanges::default();
    for (address, account) in &spec.genesis.alloc {
        let code_hash =
            if account.code.is_empty() { KECCAK256_EMPTY } else { keccak256(&account.code) };
        if !account.code.is_empty() {
            changes.codes.insert(code_hash, Bytes::clone(&account.code));
        }
        let storage = account
            .storage
            .iter()
            .map(|(slot, value)| (*slot, U256::from_be_bytes(value.0)))
            .collect();
        changes.accounts.insert(
            *address,
            AccountChange {
                info: Some(AccountInfo {
                    nonce: account.nonce,
                    balance: account.balance,
                    code_hash,
                }),
                storage_wiped: false,
                storage,
            },
        );
    }
    changes
}

/// Writes the genesis block into an empty database, or checks that the stored one matches.
pub(crate) fn ensure_genesis(env: &Env, spec: &ChainSpec) -> Result<(), ChainError> {
    let expected = spec.genesis_hash();
    let reader = env.read()?;
    if let Some(stored) = reader.genesis_hash()? {
        if stored != expected {
            return Err(ChainError::GenesisMismatch { stored, expected });
        }
        return Ok(());
    }
    let update =
        compute_state_update(&reader, EMPTY_ROOT_HASH, &genesis_changes(spec), public_loc(0))?;
    drop(reader);
    let header = spec.genesis_header();
    if update.state_root != header.state_root {
        return Err(ChainError::InvalidBlock {
            number: 0,
            reason: format!(
                "genesis state root {} differs from {}",
                update.state_root, header.state_root
            ),
        });
    }
    let block =
        StoredBlock { hash: expected, header, transactions: Vec::new(), senders: Vec::new() };
    let td = block.header.difficulty;
    let writer = env.write()?;
    writer.write_block(&block, &[], &update, td)?;
    writer.commit()?;
    tracing::info!(target: "chain", hash = %expected, "wrote genesis block");
    Ok(())
}
