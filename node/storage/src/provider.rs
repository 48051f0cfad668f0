//! Typed reads over a [`ReadTx`] and the one-transaction block commit over a [`WriteTx`].

use alloy_consensus::{Header, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::{Decodable, Encodable};
use alloy_trie::EMPTY_ROOT_HASH;
use std::sync::Arc;

use crate::{
    StorageError,
    cache::{DEFERRED, Layer, deferred_index, node_key},
    db::{HEAD_KEY, ReadTx, STATE_KEY, StateTable, WriteTx, tables},
    model::{AccountRecord, StateUpdate, StoredBlock, StoredReceipt},
    node_batch::IndexedBatch,
    state::{encode_slot_value, public_loc, storage_key},
    trie::{Loc, NodeStore, ROOT_LOC, Trie, TrieError},
};

const GENESIS_KEY: &[u8] = b"genesis";

fn num_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn decode<T: Decodable>(what: &'static str, bytes: &[u8]) -> Result<T, StorageError> {
    T::decode(&mut &bytes[..]).map_err(|e| StorageError::Corrupt(what, e.to_string()))
}

fn be_u64(what: &'static str, bytes: &[u8]) -> Result<u64, StorageError> {
    let arr: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or(StorageError::Corrupt(what, format!("expected 8 bytes, got {}", bytes.len())))?;
    Ok(u64::from_be_bytes(arr))
}

/// Where a transaction sits in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Block number.
    pub block_number: u64,
    /// Index in the block.
    pub index: u32,
}

impl NodeStore for ReadTx {
    fn node(&self, hash: &B256, loc: Loc) -> Result<Option<Vec<u8>>, TrieError> {
        let store = |e: StorageError| TrieError::Store(e.to_string());
        let loc = if loc == ROOT_LOC {
            match self.root_loc(hash).map_err(store)? {
                Some(loc) => loc,
                None => return Ok(None),
            }
        } else {
            loc
        };
        self.trie_node(hash, loc).map_err(store)
    }
}

impl ReadTx {
    /// Where the root node of a trie is stored (`None`: not a known root).
    pub fn root_loc(&self, root: &B256) -> Result<Option<Loc>, StorageError> {
        self.get(tables::TRIE_ROOTS, root.as_slice())?.map(|b| be_u64("trie root", &b)).transpose()
    }
}

// === impl ReadTx (chain) ===

impl ReadTx {
    /// The number of the head block, `None` before genesis is written.
    pub fn head_number(&self) -> Result<Option<u64>, StorageError> {
        self.get(tables::META, HEAD_KEY)?.map(|b| be_u64("head", &b)).transpose()
    }

    /// The block whose state is on disk; the state of later blocks is in the write-back cache,
    /// or must be re-executed after a crash.
    pub fn persisted_state_number(&self) -> Result<Option<u64>, StorageError> {
        self.get(tables::META, STATE_KEY)?.map(|b| be_u64("state", &b)).transpose()
    }

    /// The genesis hash recorded at init.
    pub fn genesis_hash(&self) -> Result<Option<B256>, StorageError> {
        Ok(self.get(tables::META, GENESIS_KEY)?.map(|b| B256::from_slice(&b)))
    }

    /// The canonical hash at a height.
    pub fn canonical_hash(&self, number: u64) -> Result<Option<B256>, StorageError> {
        Ok(self.get(tables::CANONICAL_HASHES, &num_key(number))?.map(|b| B256::from_slice(&b)))
    }

    /// The number of a canonical block by hash.
    pub fn block_number(&self, hash: &B256) -> Result<Option<u64>, StorageError> {
        self.get(tables::HEADER_NUMBERS, hash.as_slice())?
            .map(|b| be_u64("header number", &b))
            .transpose()
    }

    /// A header by number.
    pub fn header(&self, number: u64) -> Result<Option<Header>, StorageError> {
        self.get(tables::HEADERS, &num_key(number))?.map(|b| decode("header", &b)).transpose()
    }

    /// Total difficulty up to and including a block.
    pub fn total_difficulty(&self, number: u64) -> Result<Option<U256>, StorageError> {
        Ok(self.get(tables::TOTAL_DIFFICULTY, &num_key(number))?.map(|b| U256::from_be_slice(&b)))
    }

    /// The transactions of a block.
    pub fn transactions(&self, number: u64) -> Result<Option<Vec<TxEnvelope>>, StorageError> {
        let Some(raw) = self.get(tables::BODIES, &num_key(number))? else { return Ok(None) };
        let encoded: Vec<Bytes> = decode("body", &raw)?;
        encoded
            .iter()
            .map(|b| {
                TxEnvelope::decode_2718(&mut &b[..])
                    .map_err(|e| StorageError::Corrupt("transaction", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The senders of a block's transactions.
    pub fn senders(&self, number: u64) -> Result<Option<Vec<Address>>, StorageError> {
        Ok(self
            .get(tables::SENDERS, &num_key(number))?
            .map(|b| b.chunks_exact(20).map(Address::from_slice).collect()))
    }

    /// A whole block.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>, StorageError> {
        let (Some(header), Some(hash)) = (self.header(number)?, self.canonical_hash(number)?)
        else {
            return Ok(None);
        };
        let transactions = self.transactions(number)?.unwrap_or_default();
        let senders = self.senders(number)?.unwrap_or_default();
        Ok(Some(StoredBlock { header, hash, transactions, senders }))
    }

    /// The receipts of a block.
    pub fn receipts(&self, number: u64) -> Result<Option<Vec<StoredReceipt>>, StorageError> {
        self.get(tables::RECEIPTS, &num_key(number))?.map(|b| decode("receipts", &b)).transpose()
    }

    /// Where a transaction was included.
    pub fn tx_location(&self, hash: &B256) -> Result<Option<TxLocation>, StorageError> {
        let Some(raw) = self.get(tables::TX_LOOKUP, hash.as_slice())? else { return Ok(None) };
        let block_number = be_u64("tx lookup", &raw)?;
        let index = raw
            .get(8..12)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or(StorageError::Corrupt("tx lookup", "short index".into()))?;
        Ok(Some(TxLocation { block_number, index }))
    }
}

// === impl ReadTx (latest state) ===

impl ReadTx {
    /// The latest record of an account.
    pub fn account(&self, address: &Address) -> Result<Option<AccountRecord>, StorageError> {
        const ACCOUNTS: StateTable = StateTable::new(tables::ACCOUNTS);
        self.state_with(ACCOUNTS, address.as_slice(), |b| decode("account", b))?.transpose()
    }

    /// The latest value of a storage slot.
    pub fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StorageError> {
        const STORAGE: StateTable = StateTable::new(tables::STORAGE);
        let key = storage_key(address, slot);
        let value = self.state_with(STORAGE, &key, |b| {
            U256::try_from_be_slice(b)
                .ok_or_else(|| StorageError::Corrupt("storage value", format!("{} bytes", b.len())))
        })?;
        Ok(value.transpose()?.unwrap_or_default())
    }

    /// Contract code by hash.
    pub fn code(&self, hash: &B256) -> Result<Option<Bytes>, StorageError> {
        Ok(self.get(tables::CODE, hash.as_slice())?.map(Bytes::from))
    }
}

// === impl ReadTx (state at any root) ===

impl ReadTx {
    /// An account in the state with this root (any historical root).
    pub fn account_at(
        &self,
        state_root: B256,
        address: &Address,
    ) -> Result<Option<AccountRecord>, StorageError> {
        let trie = Trie::new(self, state_root);
        trie.get(alloy_primitives::keccak256(address).as_slice())?
            .map(|b| decode("account leaf", &b))
            .transpose()
    }

    /// A storage slot in the storage trie with this root.
    pub fn storage_at(&self, storage_root: B256, slot: &B256) -> Result<U256, StorageError> {
        if storage_root == EMPTY_ROOT_HASH {
            return Ok(U256::ZERO);
        }
        let trie = Trie::new(self, storage_root);
        trie.get(alloy_primitives::keccak256(slot).as_slice())?
            .map(|b| decode::<U256>("storage leaf", &b))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// EIP-1186 proof nodes for a key of the trie with this root.
    pub fn proof(&self, root: B256, hashed_key: &B256) -> Result<Vec<Bytes>, StorageError> {
        let trie = Trie::new(self, root);
        Ok(trie.proof(hashed_key.as_slice())?.into_iter().map(Bytes::from).collect())
    }
}

// === impl WriteTx ===

impl WriteTx {
    /// Writes a block, its receipts and its state update, and makes it the head.
    /// Call [`WriteTx::commit`] afterwards; all of it becomes visible atomically.
    pub fn write_block(
        &self,
        block: &StoredBlock,
        receipts: &[StoredReceipt],
        state: &StateUpdate,
        total_difficulty: U256,
    ) -> Result<(), StorageError> {
        let number = block.header.number;
        state.ensure_located("state update", |loc| loc == public_loc(number))?;
        let key = num_key(number);
        let mut header_rlp = Vec::with_capacity(600);
        block.header.encode(&mut header_rlp);
        self.put(tables::HEADERS, &key, &header_rlp)?;
        self.put(tables::CANONICAL_HASHES, &key, block.hash.as_slice())?;
        self.put(tables::HEADER_NUMBERS, block.hash.as_slice(), &key)?;
        self.put(tables::TOTAL_DIFFICULTY, &key, &total_difficulty.to_be_bytes::<32>())?;
        let body: Vec<Bytes> =
            block.transactions.iter().map(|tx| Bytes::from(tx.encoded_2718())).collect();
        self.put(tables::BODIES, &key, &alloy_rlp::encode(&body))?;
        let senders: Vec<u8> = block.senders.iter().flat_map(|a| a.0.0).collect();
        self.put(tables::SENDERS, &key, &senders)?;
        let mut receipts_rlp = Vec::new();
        alloy_rlp::encode_list(receipts, &mut receipts_rlp);
        self.put(tables::RECEIPTS, &key, &receipts_rlp)?;
        if number == 0 {
            // genesis state goes straight to disk: there is nothing to re-execute it from
            for (hash, loc) in tx_locations(block) {
                self.put(tables::TX_LOOKUP, hash.as_slice(), &loc)?;
            }
            self.apply_state(state)?;
            self.put(tables::META, STATE_KEY, &key)?;
            self.wrote_state_directly(1);
            self.put(tables::META, GENESIS_KEY, block.hash.as_slice())?;
        } else {
            self.stage(number.saturating_add(1), block_layer(block, state));
        }
        self.put(tables::META, HEAD_KEY, &key)?;
        Ok(())
    }

    /// Writes trie nodes, latest-state records and code directly to disk (bypassing the
    /// write-back cache: for bulk loads, not to be mixed with unflushed blocks).
    pub fn apply_state(&self, state: &StateUpdate) -> Result<(), StorageError> {
        self.write_trie(state)?;
        for (hash, code) in &state.codes {
            self.put(tables::CODE, hash.as_slice(), code)?;
        }
        for address in &state.wiped {
            self.delete_prefix(tables::STORAGE, address.as_slice())?;
        }
        for (address, record) in &state.accounts {
            match record {
                Some(r) => self.put(tables::ACCOUNTS, address.as_slice(), &alloy_rlp::encode(r))?,
                None => self.delete(tables::ACCOUNTS, address.as_slice())?,
            }
        }
        for (address, slot, value) in &state.storage {
            let key = storage_key(address, slot);
            if value.is_zero() {
                self.delete(tables::STORAGE, &key)?;
            } else {
                self.put(tables::STORAGE, &key, &encode_slot_value(value))?;
            }
        }
        Ok(())
    }
}

impl WriteTx {
    /// Writes a state update's trie nodes (at its location) and root-index entries straight
    /// to disk.
    pub(crate) fn write_trie(&self, state: &StateUpdate) -> Result<(), StorageError> {
        let table = crate::trie::nodes_table(state.loc);
        for (hash, node) in state.nodes.iter() {
            self.put(table, &node_key(state.loc, hash.as_slice()), node)?;
        }
        let loc = state.loc.to_be_bytes();
        for root in &state.roots {
            self.put(tables::TRIE_ROOTS, root.as_slice(), &loc)?;
        }
        Ok(())
    }
}

/// Each transaction's lookup key and value (`number ‖ index`).
fn tx_locations(block: &StoredBlock) -> impl Iterator<Item = (B256, [u8; 12])> + '_ {
    let key = num_key(block.header.number);
    block.transactions.iter().enumerate().map(move |(index, tx)| {
        let mut loc = [0u8; 12];
        loc[..8].copy_from_slice(&key);
        loc[8..].copy_from_slice(&u32::try_from(index).unwrap_or(u32::MAX).to_be_bytes());
        (*tx.tx_hash(), loc)
    })
}

/// A block's writes to the deferred tables (state and transaction lookups), for the cache.
pub(crate) fn block_layer(block: &StoredBlock, state: &StateUpdate) -> Layer {
    let index = |table: &str| deferred_index(table).unwrap_or(DEFERRED.len());
    let (roots, accounts, storage, code, lookups) = (
        index(tables::TRIE_ROOTS),
        index(tables::ACCOUNTS),
        index(tables::STORAGE),
        index(tables::CODE),
        index(tables::TX_LOOKUP),
    );
    let mut layer = Layer {
        writes: Vec::with_capacity(
            state.roots.len()
                + state.accounts.len()
                + state.storage.len()
                + block.transactions.len(),
        ),
        wipes: state.wiped.iter().map(|a| a.0.0).collect(),
        // shared with the update, not copied; indexed here, before the cache is locked
        nodes: (!state.nodes.is_empty()).then(|| Arc::new(IndexedBatch::new(state.nodes.clone()))),
    };
    for root in &state.roots {
        layer.writes.push((roots, root.to_vec(), Some(state.loc.to_be_bytes().to_vec())));
    }
    for (hash, bytes) in &state.codes {
        layer.writes.push((code, hash.to_vec(), Some(bytes.to_vec())));
    }
    for (address, record) in &state.accounts {
        layer.writes.push((accounts, address.to_vec(), record.map(alloy_rlp::encode)));
    }
    for (address, slot, value) in &state.storage {
        let value = (!value.is_zero()).then(|| encode_slot_value(value).to_vec());
        layer.writes.push((storage, storage_key(address, slot).to_vec(), value));
    }
    for (hash, loc) in tx_locations(block) {
        layer.writes.push((lookups, hash.to_vec(), Some(loc.to_vec())));
    }
    layer
}
