//! GoQuorum's privacy enhancements (`core/state_transition_pmh.go`, `simulateExecutionForPE`):
//! privacy flags 1 (party protection), 2 (mandatory recipients) and 3 (private state validation).
//!
//! - A private transaction's execution records its *affected contracts*: every address whose
//!   code ran (a message call, GoQuorum `MessageCall`) and every contract it created
//!   (`Creation`).
//! - A contract created by a flag 1-3 transaction carries [`ContractPrivacyMetadata`] (its
//!   creation TM hash and flag).
//! - **Sender side** ([`sender_check`]): every affected private contract must carry metadata
//!   with the transaction's flag; their creation hashes are the ACOTH sent to the TM; for flag 3
//!   the merkle root of the affected accounts after the simulation ([`merkle_root`]) is the
//!   `execHash`.
//! - **Block time** ([`verify`]): on a party, when privacy enhancements are on, the same rules
//!   against the TM's metadata (the flag of every affected contract, each creation hash in the
//!   received ACOTH, the recomputed merkle root equal to `execHash`); a failure fails the private
//!   transaction (status 0, no private writes), it does not invalidate the block.

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::{Address, B256, B512, KECCAK256_EMPTY};
use alloy_trie::{HashBuilder, Nibbles};
use qrs_storage::{AccountRecord, ContractPrivacyMetadata, StateChanges, StorageError};
use revm::{
    Database, DatabaseRef, database::CacheDB, primitives::hardfork::SpecId, state::EvmState,
};

use crate::{
    db::{EvmDbError, StateDb, StateView},
    executor::accumulate,
};

/// Standard private (no enhancement).
pub const FLAG_STANDARD_PRIVATE: u8 = 0;
/// Party protection.
pub const FLAG_PARTY_PROTECTION: u8 = 1;
/// Mandatory recipients.
pub const FLAG_MANDATORY_RECIPIENTS: u8 = 2;
/// Private state validation.
pub const FLAG_STATE_VALIDATION: u8 = 3;

/// The metadata the TM returned with a payload (GoQuorum `engine.ExtraMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxPrivacyMetadata {
    /// The privacy flag the sender chose.
    pub privacy_flag: u8,
    /// Creation TM hashes of the contracts the sender's simulation found (ACOTH).
    pub affected_contract_transactions: Vec<B512>,
    /// The sender's merkle root of the affected contracts (flag 3); zero when absent.
    pub exec_hash: B256,
}

/// Why an address is among a transaction's affected contracts (GoQuorum `AffectedReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affected {
    /// Created by the transaction.
    Creation,
    /// Its code ran (a call, delegate call or static call).
    MessageCall,
}

/// What the private state says about an affected address (GoQuorum `GetPrivacyMetadata` on the
/// private state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractKind {
    /// Not in the private state.
    Public,
    /// In the private state without metadata (standard private, or a non-party's empty
    /// account).
    StandardPrivate,
    /// Created by a flag 1-3 transaction.
    Enhanced(ContractPrivacyMetadata),
}

/// The sender-side refusals (GoQuorum's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderCheckError {
    /// An affected private contract has no metadata while the flag is 1-3.
    #[error("PrivacyMetadata not found: {0}: no account extra data found")]
    MetadataNotFound(Address),
    /// An affected contract has another flag.
    #[error("sent privacy flag doesn't match all affected contract flags")]
    FlagMismatch,
}

/// Why a privacy-enhanced transaction failed at block time (logged; the receipt says 0).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Flag 3 without a merkle root.
    #[error("privacy metadata has empty MR for stateValidation flag")]
    EmptyMerkleRoot,
    /// An affected private contract without metadata, flag 1-3.
    #[error("unable to find privacy metadata for affected contract {0}")]
    MetadataNotFound(Address),
    /// An affected contract has another flag.
    #[error("mismatched privacy flags on affected contract {0}")]
    FlagMismatch(Address),
    /// An affected contract's creation hash is not in the received ACOTH (the sender, or this
    /// node's view, is not party to it).
    #[error("participation check failed for affected contract {0}")]
    NotParty(Address),
    /// The recomputed merkle root differs from `execHash`.
    #[error("merkle root check failed: computed {computed}, expected {expected}")]
    MerkleRoot {
        /// This node's root.
        computed: B256,
        /// The sender's.
        expected: B256,
    },
}

/// GoQuorum's `simulateExecutionForPE` checks on the sender's node: the ACOTH to send (the
/// creation hashes of the affected enhanced contracts, deduplicated, in address order).
pub fn sender_check(
    flag: u8,
    affected: &[(Address, ContractKind)],
) -> Result<Vec<B512>, SenderCheckError> {
    let mut hashes = Vec::new();
    for (address, kind) in affected {
        match kind {
            ContractKind::Public => {}
            ContractKind::StandardPrivate if flag != FLAG_STANDARD_PRIVATE => {
                return Err(SenderCheckError::MetadataNotFound(*address));
            }
            ContractKind::StandardPrivate => {}
            ContractKind::Enhanced(m) => {
                if m.privacy_flag != flag {
                    return Err(SenderCheckError::FlagMismatch);
                }
                if !hashes.contains(&m.creation_tx_hash) {
                    hashes.push(m.creation_tx_hash);
                }
            }
        }
    }
    Ok(hashes)
}

/// GoQuorum `privateMessageHandler.verify` on the message-call affected contracts (the
/// merkle-root comparison is [`verify_merkle_root`]).
pub fn verify(
    received: &TxPrivacyMetadata,
    affected: &[(Address, ContractKind)],
) -> Result<(), VerifyError> {
    let flag = received.privacy_flag;
    for (address, kind) in affected {
        let metadata = match kind {
            ContractKind::Public => continue,
            ContractKind::StandardPrivate if flag != FLAG_STANDARD_PRIVATE => {
                return Err(VerifyError::MetadataNotFound(*address));
            }
            ContractKind::StandardPrivate => continue,
            ContractKind::Enhanced(m) => m,
        };
        if metadata.privacy_flag != flag {
            return Err(VerifyError::FlagMismatch(*address));
        }
        if !received.affected_contract_transactions.contains(&metadata.creation_tx_hash) {
            return Err(VerifyError::NotParty(*address));
        }
    }
    Ok(())
}

/// GoQuorum's `prepare`: flag 3 needs a merkle root.
pub fn prepare(received: &TxPrivacyMetadata) -> Result<(), VerifyError> {
    if received.privacy_flag == FLAG_STATE_VALIDATION && received.exec_hash.is_zero() {
        return Err(VerifyError::EmptyMerkleRoot);
    }
    Ok(())
}

/// The `execHash` comparison (only when the sender sent one).
pub fn verify_merkle_root(expected: B256, computed: B256) -> Result<(), VerifyError> {
    if !expected.is_zero() && computed != expected {
        return Err(VerifyError::MerkleRoot { computed, expected });
    }
    Ok(())
}

/// GoQuorum `EVM.CalculateMerkleRoot`: a plain (not secured) trie of address → RLP(account)
/// over the given accounts.
pub fn merkle_root(accounts: &BTreeMap<Address, AccountRecord>) -> B256 {
    let mut leaves: Vec<(Nibbles, Vec<u8>)> = accounts
        .iter()
        .map(|(address, record)| (Nibbles::unpack(address), alloy_rlp::encode(record)))
        .collect();
    leaves.sort_by_key(|leaf| leaf.0);
    let mut builder = HashBuilder::default();
    for (key, value) in &leaves {
        builder.add_leaf(*key, value);
    }
    builder.root()
}

/// The private state a private transaction ran on, for the PE checks: what existed before it,
/// the metadata of contracts, and the block's earlier private changes.
pub(crate) struct PeView<'a> {
    /// The private state before the transaction (block changes so far in its cache).
    pub private: &'a mut CacheDB<StateDb>,
    /// Metadata of contracts created earlier in this block (not yet in the database).
    pub created: &'a HashMap<Address, ContractPrivacyMetadata>,
    /// The block's private changes before this transaction.
    pub block_changes: &'a StateChanges,
    /// The public state at this point of the block.
    pub public: &'a CacheDB<StateDb>,
    /// The active fork.
    pub spec: SpecId,
}

impl PeView<'_> {
    /// The kind of an affected address, as it was before the transaction.
    pub(crate) fn kind(&mut self, address: Address) -> Result<ContractKind, StorageError> {
        if let Some(m) = self.created.get(&address) {
            return Ok(ContractKind::Enhanced(*m));
        }
        let exists = self.private.basic(address).map_err(|EvmDbError(e)| e)?.is_some();
        if !exists {
            return Ok(ContractKind::Public);
        }
        Ok(match self.private.db.reader().privacy_metadata(&address)? {
            Some(m) => ContractKind::Enhanced(m),
            None => ContractKind::StandardPrivate,
        })
    }

    /// The kinds of the message-call affected addresses.
    pub(crate) fn call_kinds(
        &mut self,
        affected: &BTreeMap<Address, Affected>,
    ) -> Result<Vec<(Address, ContractKind)>, StorageError> {
        affected
            .iter()
            .filter(|(_, why)| **why == Affected::MessageCall)
            .map(|(a, _)| Ok((*a, self.kind(*a)?)))
            .collect()
    }

    /// The merkle root of every affected account after the transaction whose private writes
    /// are `tx_state`: a private account with the block's earlier changes and the
    /// transaction's applied on the parent private state; a public account as the public state
    /// has it (its storage root as of the block's parent).
    pub(crate) fn merkle_root(
        &mut self,
        affected: &BTreeMap<Address, Affected>,
        tx_state: &EvmState,
    ) -> Result<B256, StorageError> {
        let mut private = StateChanges::default();
        let mut public = Vec::new();
        for (address, why) in affected {
            let in_private = *why == Affected::Creation
                || tx_state.contains_key(address)
                || self.private.basic(*address).map_err(|EvmDbError(e)| e)?.is_some();
            if !in_private {
                public.push(*address);
                continue;
            }
            let mut change = self.block_changes.accounts.get(address).cloned().unwrap_or_default();
            if change.info.is_none() {
                let info = self.private.basic(*address).map_err(|EvmDbError(e)| e)?;
                change.info = info.map(|i| qrs_storage::AccountInfo {
                    nonce: i.nonce,
                    balance: i.balance,
                    code_hash: i.code_hash,
                });
            }
            private.accounts.insert(*address, change);
        }
        let own: EvmState = tx_state
            .iter()
            .filter(|(a, _)| private.accounts.contains_key(*a))
            .map(|(a, acc)| (*a, acc.clone()))
            .collect();
        accumulate(&mut private, &own, self.spec);
        private.accounts.retain(|_, c| c.info.is_some());
        let root = match self.private.db.view() {
            StateView::Root(root) => root,
            StateView::Latest => qrs_storage::trie::EMPTY_ROOT_HASH,
        };
        // a simulation: the nodes are dropped, so any private location will do
        let update = qrs_storage::compute_state_update(
            self.private.db.reader(),
            root,
            &private,
            qrs_storage::trie::PRIVATE_SPACE,
        )?;
        let mut records: BTreeMap<Address, AccountRecord> =
            update.accounts.into_iter().filter_map(|(a, r)| Some((a, r?))).collect();
        for address in public {
            if let Some(record) = public_record(self.public, address)? {
                records.insert(address, record);
            }
        }
        Ok(merkle_root(&records))
    }
}

/// A public account as the public state has it at this point of the block (nonce, balance and
/// code from the block's state; the storage root from the trie).
fn public_record(
    public: &CacheDB<StateDb>,
    address: Address,
) -> Result<Option<AccountRecord>, StorageError> {
    let Some(info) = public.basic_ref(address).map_err(|EvmDbError(e)| e)? else {
        return Ok(None);
    };
    let reader = public.db.reader();
    let stored = match public.db.view() {
        StateView::Latest => reader.account(&address)?,
        StateView::Root(root) => reader.account_at(root, &address)?,
    };
    let storage_root = stored.map(|r| r.storage_root).unwrap_or(qrs_storage::trie::EMPTY_ROOT_HASH);
    let code_hash = if info.code_hash == B256::ZERO { KECCAK256_EMPTY } else { info.code_hash };
    Ok(Some(AccountRecord { nonce: info.nonce, balance: info.balance, storage_root, code_hash }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, address, b256};

    fn enhanced(flag: u8, hash: u8) -> ContractKind {
        ContractKind::Enhanced(ContractPrivacyMetadata {
            creation_tx_hash: B512::repeat_byte(hash),
            privacy_flag: flag,
        })
    }

    const A: Address = address!("00000000000000000000000000000000000000aa");
    const B: Address = address!("00000000000000000000000000000000000000bb");

    #[test]
    fn sender_check_collects_creation_hashes_of_matching_contracts() {
        let acoth = sender_check(1, &[(A, enhanced(1, 1)), (B, ContractKind::Public)]).unwrap();
        assert_eq!(acoth, vec![B512::repeat_byte(1)]);
        // a standard-private sender may touch standard-private and public contracts
        assert_eq!(
            sender_check(0, &[(A, ContractKind::StandardPrivate)]).unwrap(),
            Vec::<B512>::new()
        );
    }

    #[test]
    fn sender_check_refuses_other_flags_and_missing_metadata() {
        assert_eq!(sender_check(0, &[(A, enhanced(1, 1))]), Err(SenderCheckError::FlagMismatch));
        assert_eq!(sender_check(3, &[(A, enhanced(1, 1))]), Err(SenderCheckError::FlagMismatch));
        let err = sender_check(1, &[(A, ContractKind::StandardPrivate)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "PrivacyMetadata not found: {}: no account extra data found",
                A.to_checksum(None)
            )
        );
    }

    #[test]
    fn verify_needs_same_flag_and_creation_hash_in_acoth() {
        let received = TxPrivacyMetadata {
            privacy_flag: 1,
            affected_contract_transactions: vec![B512::repeat_byte(1)],
            exec_hash: B256::ZERO,
        };
        assert_eq!(verify(&received, &[(A, enhanced(1, 1)), (B, ContractKind::Public)]), Ok(()));
        assert_eq!(verify(&received, &[(A, enhanced(1, 2))]), Err(VerifyError::NotParty(A)));
        assert_eq!(verify(&received, &[(A, enhanced(3, 1))]), Err(VerifyError::FlagMismatch(A)));
        assert_eq!(
            verify(&received, &[(A, ContractKind::StandardPrivate)]),
            Err(VerifyError::MetadataNotFound(A))
        );
        // a standard-private transaction may not touch an enhanced contract either
        let sp = TxPrivacyMetadata::default();
        assert_eq!(verify(&sp, &[(A, ContractKind::StandardPrivate)]), Ok(()));
        assert_eq!(verify(&sp, &[(A, enhanced(1, 1))]), Err(VerifyError::FlagMismatch(A)));
    }

    #[test]
    fn psv_needs_a_merkle_root_that_matches() {
        let mut psv = TxPrivacyMetadata { privacy_flag: 3, ..Default::default() };
        assert_eq!(prepare(&psv), Err(VerifyError::EmptyMerkleRoot));
        psv.exec_hash = B256::repeat_byte(9);
        assert_eq!(prepare(&psv), Ok(()));
        assert!(verify_merkle_root(psv.exec_hash, B256::repeat_byte(8)).is_err());
        assert!(verify_merkle_root(psv.exec_hash, psv.exec_hash).is_ok());
        // no execHash sent: nothing to compare
        assert!(verify_merkle_root(B256::ZERO, B256::repeat_byte(8)).is_ok());
    }

    #[test]
    fn merkle_root_is_a_plain_trie_of_address_to_account_rlp() {
        assert_eq!(merkle_root(&BTreeMap::new()), qrs_storage::trie::EMPTY_ROOT_HASH);
        let record = AccountRecord {
            nonce: 1,
            balance: U256::ZERO,
            storage_root: qrs_storage::trie::EMPTY_ROOT_HASH,
            code_hash: b256!("1111111111111111111111111111111111111111111111111111111111111111"),
        };
        let one = merkle_root(&BTreeMap::from([(A, record)]));
        // a single leaf: keccak(rlp([hex-prefix(even full path) = 0x20 ‖ address, rlp(account)]))
        let path: Vec<u8> = [&[0x20u8][..], A.as_slice()].concat();
        let value = alloy_rlp::encode(record);
        let mut payload = Vec::new();
        alloy_rlp::Encodable::encode(&path.as_slice(), &mut payload);
        alloy_rlp::Encodable::encode(&value.as_slice(), &mut payload);
        let mut node = Vec::new();
        alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut node);
        node.extend(payload);
        assert_eq!(one, alloy_primitives::keccak256(&node));
        let mut other = record;
        other.nonce = 2;
        assert_ne!(one, merkle_root(&BTreeMap::from([(A, other)])));
        let two = merkle_root(&BTreeMap::from([(A, record), (B, other)]));
        assert_ne!(two, one);
    }
}
