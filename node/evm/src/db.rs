//! revm's `DatabaseRef` over one MDBX snapshot.

use std::{cell::RefCell, collections::HashMap};

use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256};
use qrs_storage::{ReadTx, StorageError};
use revm::{
    bytecode::Bytecode,
    database_interface::{DBErrorMarker, DatabaseRef},
    state::AccountInfo,
};

/// A storage error seen by revm.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct EvmDbError(#[from] pub StorageError);

impl DBErrorMarker for EvmDbError {}

/// Which state a [`StateDb`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateView {
    /// The latest state (flat tables: one lookup per read).
    Latest,
    /// The state with this root, read through the trie (any historical block).
    Root(B256),
}

/// A consistent snapshot of the state for revm.
#[derive(Debug)]
pub struct StateDb {
    tx: ReadTx,
    view: StateView,
    storage_roots: RefCell<HashMap<Address, B256>>,
    /// GoQuorum's RPC state (`EthAPIState`): accounts in this private state win.
    private_root: Option<B256>,
    /// Storage roots of accounts found in the private state.
    private_accounts: RefCell<HashMap<Address, B256>>,
}

impl StateDb {
    /// Reads `view` through the snapshot `tx`.
    pub fn new(tx: ReadTx, view: StateView) -> Self {
        Self {
            tx,
            view,
            storage_roots: RefCell::default(),
            private_root: None,
            private_accounts: RefCell::default(),
        }
    }

    /// Reads private first: an account that exists in the private state with root
    /// `private_root` is read from there (code, balance, nonce, storage), any other from `view`
    /// (GoQuorum's state for `eth_getBalance`, `eth_call`, ...). Private transactions'
    /// execution does not use this (it has its own dual state).
    pub fn with_private_root(mut self, private_root: B256) -> Self {
        self.private_root = Some(private_root);
        self
    }

    fn private_record(
        &self,
        address: &Address,
    ) -> Result<Option<qrs_storage::AccountRecord>, StorageError> {
        let Some(root) = self.private_root else { return Ok(None) };
        if root == qrs_storage::trie::EMPTY_ROOT_HASH {
            return Ok(None);
        }
        let record = self.tx.account_at(root, address)?;
        if let Some(r) = &record {
            self.private_accounts.borrow_mut().insert(*address, r.storage_root);
        }
        Ok(record)
    }

    /// Which state this reads.
    pub fn view(&self) -> StateView {
        self.view
    }

    /// The underlying snapshot.
    pub fn reader(&self) -> &ReadTx {
        &self.tx
    }

    fn record(
        &self,
        address: &Address,
    ) -> Result<Option<qrs_storage::AccountRecord>, StorageError> {
        match self.view {
            StateView::Latest => self.tx.account(address),
            StateView::Root(root) => {
                let record = self.tx.account_at(root, address)?;
                if let Some(r) = &record {
                    self.storage_roots.borrow_mut().insert(*address, r.storage_root);
                }
                Ok(record)
            }
        }
    }
}

impl DatabaseRef for StateDb {
    type Error = EvmDbError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let record = match self.private_record(&address)? {
            Some(r) => Some(r),
            None => self.record(&address)?,
        };
        Ok(record.map(|r| AccountInfo {
            balance: r.balance,
            nonce: r.nonce,
            code_hash: r.code_hash,
            code: None,
            ..Default::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if code_hash == KECCAK256_EMPTY {
            return Ok(Bytecode::default());
        }
        let code = self.tx.code(&code_hash)?.ok_or_else(|| {
            StorageError::Corrupt("code", format!("missing code for hash {code_hash}"))
        })?;
        Ok(Bytecode::new_raw(code))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        let slot = B256::from(index.to_be_bytes::<32>());
        if self.private_root.is_some() {
            let known = self.private_accounts.borrow().get(&address).copied();
            let root = match known {
                Some(r) => Some(r),
                None => self.private_record(&address)?.map(|r| r.storage_root),
            };
            if let Some(root) = root {
                return Ok(self.tx.storage_at(root, &slot)?);
            }
        }
        match self.view {
            StateView::Latest => Ok(self.tx.storage(&address, &slot)?),
            StateView::Root(_) => {
                let cached = self.storage_roots.borrow().get(&address).copied();
                let storage_root = match cached {
                    Some(r) => r,
                    None => match self.record(&address)? {
                        Some(r) => r.storage_root,
                        None => return Ok(U256::ZERO),
                    },
                };
                Ok(self.tx.storage_at(storage_root, &slot)?)
            }
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Ok(self.tx.canonical_hash(number)?.unwrap_or_default())
    }
}
