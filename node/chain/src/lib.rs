//! The chain handle: the one place that owns the database, the chain spec and the pool.
//!
//! [`Chain`] is a cheap-to-clone handle. Consensus engines drive block production through the
//! seam [`Chain::build_block`] → (agree) → [`Chain::commit_block`], or import peers' blocks with
//! [`Chain::import_block`]; RPC reads through [`Chain::reader`] snapshots and executes calls with
//! [`Chain::state_db`]. Every committed block is announced on [`Chain::subscribe`].

mod build;
mod error;
mod events;
mod genesis;
mod import;
mod metrics;
mod pool_state;
mod private;
mod recover;

use std::{path::Path, sync::Arc};

use alloy_consensus::Header;
use alloy_primitives::{B256, U256};
use parking_lot::{Mutex, RwLock};
use qrs_chainspec::ChainSpec;
use qrs_evm::{StateDb, StateView};
use qrs_storage::{Env, ReadTx};
use qrs_txpool::{Pool, PoolConfig, TxRules};
use tokio::sync::broadcast;

pub use build::{BuildAttributes, BuiltBlock};
pub use error::ChainError;
pub use events::{ChainEvent, CommittedBlock};
pub use pool_state::{HeadAccounts, LatestAccounts};
pub use private::{PrivatePayloads, ReceivedPayload};
pub use qrs_evm::pe::TxPrivacyMetadata;
pub use qrs_storage::CacheConfig;

/// The head of the canonical chain.
#[derive(Debug, Clone)]
pub struct Head {
    /// The header.
    pub header: Header,
    /// Its hash.
    pub hash: B256,
    /// Total difficulty.
    pub total_difficulty: U256,
}

#[derive(Debug)]
struct Inner {
    env: Env,
    spec: Arc<ChainSpec>,
    pool: Arc<Pool>,
    head: RwLock<Head>,
    /// Serialises everything that builds on or moves the head.
    writer: Mutex<()>,
    /// The head state's tries, kept decoded for the next block's state update.
    hot: qrs_storage::HotSlot,
    events: broadcast::Sender<ChainEvent>,
    /// The node's transaction manager, for private payloads.
    private_payloads: RwLock<Option<Arc<dyn PrivatePayloads>>>,
}

/// The chain handle.
#[derive(Debug, Clone)]
pub struct Chain {
    inner: Arc<Inner>,
}

impl Chain {
    /// Opens the database in `dir`, writing the genesis block of `spec` if it is empty.
    /// Refuses a database initialised with a different genesis.
    ///
    /// Blocks committed after the last state flush (a crash) are re-executed here, so the state
    /// is at the head when this returns.
    pub fn open(dir: &Path, spec: ChainSpec, pool_config: PoolConfig) -> Result<Self, ChainError> {
        Self::open_with_cache(dir, spec, pool_config, CacheConfig::default())
    }

    /// [`Chain::open`] with an explicit policy for persisting the in-memory state.
    pub fn open_with_cache(
        dir: &Path,
        spec: ChainSpec,
        pool_config: PoolConfig,
        cache: CacheConfig,
    ) -> Result<Self, ChainError> {
        let env = Env::open_with(dir, cache)?;
        let spec = Arc::new(spec);
        genesis::ensure_genesis(&env, &spec)?;
        recover::recover_state(&env, &spec)?;
        let head = load_head(&env.read()?)?;
        tracing::info!(target: "chain", number = head.header.number, hash = %head.hash, "opened chain");
        let (events, _) = broadcast::channel(1024);
        Ok(Self {
            inner: Arc::new(Inner {
                env,
                spec,
                pool: Arc::new(Pool::new(pool_config)),
                head: RwLock::new(head),
                writer: Mutex::new(()),
                hot: qrs_storage::HotSlot::default(),
                events,
                private_payloads: RwLock::new(None),
            }),
        })
    }

    /// Writes the state held in memory (the blocks since the last flush) to disk now. Also done
    /// by the cache policy and when the last handle is dropped; after a crash the blocks since
    /// the last flush are re-executed by [`Chain::open`].
    pub fn flush(&self) -> Result<(), ChainError> {
        Ok(self.inner.env.flush()?)
    }

    /// Tests only: when the last handle is dropped, do not persist the in-memory state, as a
    /// crash would not; the next [`Chain::open`] re-executes those blocks.
    #[doc(hidden)]
    pub fn discard_state_cache_on_close(&self) {
        self.inner.env.discard_cache_on_close();
    }

    /// The chain spec.
    pub fn spec(&self) -> &Arc<ChainSpec> {
        &self.inner.spec
    }

    /// The transaction pool.
    pub fn pool(&self) -> &Arc<Pool> {
        &self.inner.pool
    }

    /// The current head.
    pub fn head(&self) -> Head {
        self.inner.head.read().clone()
    }

    /// A consistent read snapshot of the database.
    pub fn reader(&self) -> Result<ReadTx, ChainError> {
        Ok(self.inner.env.read()?)
    }

    /// A revm database over the latest state, or over the state after block `number`.
    pub fn state_db(&self, number: Option<u64>) -> Result<StateDb, ChainError> {
        let reader = self.reader()?;
        let view = match number {
            None => StateView::Latest,
            Some(n) => {
                let head = reader.head_number()?.unwrap_or_default();
                if n >= head {
                    StateView::Latest
                } else {
                    let header = reader.header(n)?.ok_or(ChainError::UnknownBlock(n))?;
                    StateView::Root(header.state_root)
                }
            }
        };
        Ok(StateDb::new(reader, view))
    }

    /// Committed-block events (new heads, logs).
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.inner.events.subscribe()
    }

    /// The rules a new transaction is checked against, at the next block.
    pub fn tx_rules(&self) -> TxRules {
        let head = self.head();
        let spec = &self.inner.spec;
        let next = head.header.number.saturating_add(1);
        let ts = head.header.timestamp.max(now_secs());
        use qrs_chainspec::Hardfork as F;
        TxRules {
            chain_id: spec.chain_id,
            gas_price_enabled: spec.gas_price_enabled_at(next),
            istanbul: spec.is_active(F::Istanbul, next, ts),
            berlin: spec.is_active(F::Berlin, next, ts),
            london: spec.is_active(F::London, next, ts),
            shanghai: spec.is_active(F::Shanghai, next, ts),
            prague: spec.is_active(F::Prague, next, ts),
            base_fee: 0,
            block_gas_limit: head.header.gas_limit,
            max_tx_size: spec.tx_size_limit_at(next),
        }
    }

    /// Checks a transaction as the pool would admit it, against the latest state, without
    /// adding it (a privacy marker transaction's inner transaction).
    pub fn check_admissible(&self, tx: &qrs_primitives::RecoveredTx) -> Result<(), ChainError> {
        let rules = self.tx_rules();
        Ok(self.inner.pool.check(tx, &rules, &HeadAccounts::open(self)?)?)
    }

    /// Adds a transaction to the pool, checked against the latest state.
    pub fn submit(&self, tx: qrs_primitives::RecoveredTx) -> Result<B256, ChainError> {
        let rules = self.tx_rules();
        Ok(self.inner.pool.add(tx, &rules, &HeadAccounts::open(self)?)?)
    }
}

fn load_head(reader: &ReadTx) -> Result<Head, ChainError> {
    let number = reader.head_number()?.ok_or(ChainError::NoGenesis)?;
    let header = reader.header(number)?.ok_or(ChainError::UnknownBlock(number))?;
    let hash = reader.canonical_hash(number)?.ok_or(ChainError::UnknownBlock(number))?;
    let total_difficulty = reader.total_difficulty(number)?.unwrap_or_default();
    Ok(Head { header, hash, total_difficulty })
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
