//! The values stored in the tables.

use alloy_consensus::{Header, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, Log, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use std::collections::BTreeMap;

/// A receipt as stored: the consensus receipt plus the fields RPC needs without re-execution.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct StoredReceipt {
    /// EIP-2718 type of the transaction.
    pub tx_type: u8,
    /// Execution status (EIP-658).
    pub success: bool,
    /// Gas used in the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Logs emitted.
    pub logs: Vec<Log>,
    /// Address of the created contract, or empty.
    pub contract_address: Bytes,
    /// Revert data (the ABI-encoded reason) when the transaction reverted.
    pub revert_data: Bytes,
}

impl StoredReceipt {
    /// The created contract, if any.
    pub fn created(&self) -> Option<Address> {
        (self.contract_address.len() == 20).then(|| Address::from_slice(&self.contract_address))
    }
}

/// A block with its hash and the recovered senders of its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// The header.
    pub header: Header,
    /// `keccak(rlp(header))`.
    pub hash: B256,
    /// Transactions in block order.
    pub transactions: Vec<TxEnvelope>,
    /// Sender of each transaction.
    pub senders: Vec<Address>,
}

/// The latest-state record of an account (also its state-trie leaf).
pub type AccountRecord = alloy_trie::TrieAccount;

/// What a block changed for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    /// The new nonce, balance and code hash; `None` when the account was destroyed
    /// (self-destruct, or touched and empty under EIP-161).
    pub info: Option<AccountInfo>,
    /// The account's storage was cleared first (destroyed, or created anew).
    pub storage_wiped: bool,
    /// Storage slots written (a zero value deletes the slot).
    pub storage: BTreeMap<B256, U256>,
}

/// Nonce, balance and code hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountInfo {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak of the code (`KECCAK_EMPTY` for none).
    pub code_hash: B256,
}

/// Every state change of a block (or of a genesis allocation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// Changed accounts.
    pub accounts: BTreeMap<Address, AccountChange>,
    /// New contract code by hash.
    pub codes: BTreeMap<B256, Bytes>,
}

/// The storage-level result of applying [`StateChanges`]: what to write, and the new root.
#[derive(Debug, Clone, Default)]
pub struct StateUpdate {
    /// The new state root.
    pub state_root: B256,
    /// New trie nodes (state and storage tries) in their stored form, all located at `loc`
    /// (shared, not copied, when the update is cloned or published to the state cache).
    pub nodes: std::sync::Arc<crate::NodeBatch>,
    /// Where `nodes` are stored (see [`crate::trie::Loc`]).
    pub loc: crate::trie::Loc,
    /// The tries whose root node is among `nodes` (for the root index).
    pub roots: Vec<B256>,
    /// New latest-state account records (`None` deletes).
    pub accounts: Vec<(Address, Option<AccountRecord>)>,
    /// Accounts whose stored slots must be deleted before `storage` is written.
    pub wiped: Vec<Address>,
    /// Storage writes (a zero value deletes).
    pub storage: Vec<(Address, B256, U256)>,
    /// New code.
    pub codes: Vec<(B256, Bytes)>,
}

impl StateUpdate {
    /// Checks that the nodes and roots this update places (if any) are located where `expected`
    /// says they must be; `what` names the update in the error.
    pub(crate) fn ensure_located(
        &self,
        what: &'static str,
        expected: impl FnOnce(crate::trie::Loc) -> bool,
    ) -> Result<(), crate::StorageError> {
        let places = !self.nodes.is_empty() || !self.roots.is_empty();
        if places && !expected(self.loc) {
            return Err(crate::StorageError::Corrupt(what, format!("located at {}", self.loc)));
        }
        Ok(())
    }
}
