//! Crash recovery: re-executing the blocks whose state was still in the write-back cache.
//!
//! Every block, its receipts and the head pointer are written durably at commit, but the state
//! writes of recent blocks (trie nodes, latest state, tx lookups) are persisted in batches
//! (`qrs_storage::CacheConfig`). After a crash the database holds blocks up to the head and
//! state up to an earlier block; [`recover_state`] re-executes the blocks in between on that
//! state, checks each block's state root against its header, and hands the writes back to the
//! cache. No committed block is lost, and the head does not move.
//!
//! Private transactions are re-executed for their public effect only (the sender's nonce): the
//! private state is written durably with each block (`qrs_storage::PrivateBlockWrite`), so it
//! survives the crash and recovery never needs the transaction manager.

use qrs_chainspec::ChainSpec;
use qrs_evm::{BlockContext, BlockExecutor, EvmConfig, StateDb, StateView};
use qrs_storage::{Env, compute_state_update, public_loc};

use crate::ChainError;

/// Re-executes the blocks after the persisted state up to the head, then persists their state.
/// Returns how many blocks were re-executed.
pub(crate) fn recover_state(env: &Env, spec: &ChainSpec) -> Result<u64, ChainError> {
    let reader = env.read()?;
    let head = reader.head_number()?.ok_or(ChainError::NoGenesis)?;
    let persisted = reader.persisted_state_number()?.unwrap_or(head);
    drop(reader);
    if persisted >= head {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    tracing::info!(target: "chain::recover", persisted, head, "re-executing blocks whose state was not persisted");
    for number in persisted.saturating_add(1)..=head {
        let reader = env.read()?;
        let block = reader.block(number)?.ok_or(ChainError::UnknownBlock(number))?;
        let parent_number = number.saturating_sub(1);
        let parent =
            reader.header(parent_number)?.ok_or(ChainError::UnknownBlock(parent_number))?;
        let invalid = |reason: String| ChainError::InvalidBlock { number, reason };
        if block.senders.len() != block.transactions.len() {
            return Err(invalid("stored senders do not match the transactions".into()));
        }
        let ctx = BlockContext::from_header(&block.header);
        let cfg = EvmConfig::at(spec, number, block.header.timestamp);
        let mut executor =
            BlockExecutor::new(StateDb::new(env.read()?, StateView::Latest), &cfg, &ctx);
        for (tx, sender) in block.transactions.iter().zip(&block.senders) {
            executor
                .execute(tx, *sender)
                .map_err(|e| invalid(format!("re-executing transaction {}: {e}", tx.tx_hash())))?;
        }
        let outcome = executor.finish();
        let state =
            compute_state_update(&reader, parent.state_root, &outcome.changes, public_loc(number))?;
        if state.state_root != block.header.state_root {
            return Err(invalid(format!(
                "re-executed state root {} differs from the header's {}",
                state.state_root, block.header.state_root
            )));
        }
        env.restore_block_state(&block, &state)?;
    }
    env.flush()?;
    tracing::info!(target: "chain::recover", blocks = head.saturating_sub(persisted),
        elapsed_ms = started.elapsed().as_millis() as u64, "state recovered");
    Ok(head.saturating_sub(persisted))
}
