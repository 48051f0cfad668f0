//! qtm's payload store: SQLite (embedded default) and PostgreSQL through sqlx.
//!
//! - One trait, [`PayloadStore`], implemented by both backends; [`open_store`] picks the backend
//!   from a [`StoreUrl`] (Tessera JDBC URLs are accepted as-is).
//! - Schema migrations run at open, serialized across processes (PostgreSQL advisory lock,
//!   SQLite `BEGIN IMMEDIATE`), so several qtm processes may start at once on one database.
//! - A recipient-key index table makes "every payload for key K" an index range scan with
//!   keyset pagination ([`PayloadStore::find_by_recipient`]) instead of Tessera's full-table
//!   scan with trial decryption. It points at an insertion-order payload id, so index inserts
//!   are appends, not random 64-byte-key inserts.
//! - SQLite writes go through a single group-commit writer task: concurrent writes are committed
//!   together in one transaction (multi-row statements); each caller gets its own result only
//!   after the commit. WAL checkpoints run in a background task, never inside a commit.
//!   PostgreSQL `save`s are group-committed per process the same way (one array statement per
//!   batch); other PostgreSQL writes are single atomic statements on a pool.
//! - No in-process state matters for correctness: processes sharing one PostgreSQL database
//!   behave as one store, and [`PayloadStore::save_if_unchanged`] gives qtm an atomic
//!   compare-and-swap for merge-on-push across processes.
//! - "Not found" is `Ok(None)` / `Ok(false)`; every [`StoreError`] means something else
//!   (typically [`StoreError::Unavailable`], a 5xx for qtm, never a 404).
//!
//! Tables are prefixed `qtm_` (`qtm_payload`, `qtm_payload_recipient`, `qtm_raw_payload`,
//! `qtm_privacy_group`, `qtm_schema_migrations`), so they can share a database with Tessera's
//! own tables.
//!
//! Tests: `cargo test -p qrs-tm-store` (needs PostgreSQL at `QRS_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`; `QRS_SKIP_POSTGRES=1` skips the PostgreSQL half
//! with a warning). Benches: `cargo bench -p qrs-tm-store --bench store`.

mod error;
mod migrate;
mod model;
mod options;
mod postgres;
mod rows;
mod sqlite;
mod store_url;

use std::sync::Arc;

pub use error::{Backend, Cause, CorruptDetail, MigrationError, StoreError, StoreOp};
pub use model::{
    B64, MessageHash, PayloadCodec, PublicKey, StoredPayload, StoredPrivacyGroup, StoredRawPayload,
};
pub use options::{StoreOptions, Synchronous};
pub use postgres::PostgresStore;
pub use sqlite::{GroupCommitStats, SqliteStore};
pub use store_url::{StoreUrl, StoreUrlError};

/// Storage for qtm's payloads. Every method is safe to call concurrently from many tasks and,
/// for PostgreSQL, from many processes.
#[async_trait::async_trait]
pub trait PayloadStore: Send + Sync + std::fmt::Debug {
    /// Inserts `p`, or replaces the row with the same hash (the caller merges boxes first).
    /// The recipient index is replaced by `p.recipients`. Returns after the commit.
    async fn save(&self, p: StoredPayload) -> Result<(), StoreError>;

    /// Saves every payload in one database transaction: all are stored or none is.
    async fn save_batch(&self, ps: Vec<StoredPayload>) -> Result<(), StoreError>;

    /// Compare-and-swap save for merge-on-push across processes: stores `p` only if the stored
    /// row's `encoded_payload` still equals `expected_previous` (`None`: only if no row with
    /// that hash exists). Otherwise fails with [`StoreError::Conflict`]; re-read and retry.
    async fn save_if_unchanged(
        &self,
        p: StoredPayload,
        expected_previous: Option<&[u8]>,
    ) -> Result<(), StoreError>;

    /// The payload with this hash; `Ok(None)` only when it is definitely not stored.
    async fn find(&self, hash: &[u8; 64]) -> Result<Option<StoredPayload>, StoreError>;

    /// The payloads with these hashes, in the order asked (`None` where definitely not stored).
    /// Backends answer many hashes with one query; this default asks one by one.
    async fn find_many(
        &self,
        hashes: &[[u8; 64]],
    ) -> Result<Vec<Option<StoredPayload>>, StoreError> {
        let mut out = Vec::with_capacity(hashes.len());
        for hash in hashes {
            out.push(self.find(hash).await?);
        }
        Ok(out)
    }

    /// Deletes the payload and its index entries; `Ok(false)` if there was none.
    async fn delete(&self, hash: &[u8; 64]) -> Result<bool, StoreError>;

    /// Payloads indexed under recipient `key`, in the order they were first stored, strictly
    /// after the payload `after` (keyset pagination: pass the hash of the last payload of the
    /// previous page), at most `limit`. Replacing a payload keeps its position. If `after` is no
    /// longer stored (deleted meanwhile), listing restarts from the beginning: a caller may see
    /// payloads twice (resend is idempotent), never miss one that existed throughout.
    async fn find_by_recipient(
        &self,
        key: &[u8; 32],
        after: Option<[u8; 64]>,
        limit: u32,
    ) -> Result<Vec<StoredPayload>, StoreError>;

    /// Inserts or replaces a raw payload (`/storeraw`).
    async fn save_raw(&self, p: StoredRawPayload) -> Result<(), StoreError>;

    /// The raw payload with this hash; `Ok(None)` only when it is definitely not stored.
    async fn find_raw(&self, hash: &[u8; 64]) -> Result<Option<StoredRawPayload>, StoreError>;

    /// Deletes a raw payload; `Ok(false)` if there was none.
    async fn delete_raw(&self, hash: &[u8; 64]) -> Result<bool, StoreError>;

    /// Number of stored (non-raw) payloads.
    async fn count(&self) -> Result<u64, StoreError>;

    /// Checks that the database answers (and, for SQLite, that the writer task is alive).
    async fn upcheck(&self) -> Result<(), StoreError>;

    /// Inserts or replaces a privacy group.
    async fn save_privacy_group(&self, g: StoredPrivacyGroup) -> Result<(), StoreError>;

    /// The privacy group with this id; `Ok(None)` only when it is definitely not stored.
    async fn find_privacy_group(&self, id: &[u8])
    -> Result<Option<StoredPrivacyGroup>, StoreError>;

    /// Every privacy group with this lookup id (ordered by id).
    async fn find_privacy_groups_by_lookup(
        &self,
        lookup_id: &[u8],
    ) -> Result<Vec<StoredPrivacyGroup>, StoreError>;

    /// Which backend this is.
    fn backend(&self) -> Backend;
}

/// Opens (creating and migrating if needed) the store at `url` with default options.
pub async fn open_store(url: &StoreUrl) -> Result<Arc<dyn PayloadStore>, StoreError> {
    open_store_with(url, &StoreOptions::default()).await
}

/// Opens (creating and migrating if needed) the store at `url` with `options`.
pub async fn open_store_with(
    url: &StoreUrl,
    options: &StoreOptions,
) -> Result<Arc<dyn PayloadStore>, StoreError> {
    tracing::info!(target: "qtm::store", %url, "opening payload store");
    Ok(match url {
        StoreUrl::Sqlite { path } => Arc::new(SqliteStore::open_file(path, options).await?),
        StoreUrl::SqliteMemory => Arc::new(SqliteStore::open_memory(options).await?),
        StoreUrl::Postgres { url, schema } => {
            Arc::new(PostgresStore::open(url, schema.as_deref(), options).await?)
        }
    })
}
