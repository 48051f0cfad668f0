//! SQLite backend: one group-commit writer connection ([`writer`]) plus a pool of read
//! connections. The file runs in WAL mode, so reads never wait for the writer.

mod bulk;
mod checkpointer;
mod recent;
mod write_ops;
mod writer;

use std::{path::Path, str::FromStr as _, sync::Arc};

use sqlx::{
    ConnectOptions as _, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    PayloadStore,
    error::{Backend, Cause, StoreError, StoreOp},
    migrate,
    model::{StoredPayload, StoredPrivacyGroup, StoredRawPayload},
    options::{StoreOptions, Synchronous},
    rows::{
        self, GROUP_TABLE, GroupRow, PAYLOAD_TABLE, PayloadRow, RAW_TABLE, RECIPIENT_TABLE, RawRow,
        after_bound,
    },
};
use write_ops::{WriteOp, WriteOutcome};
pub use writer::GroupCommitStats;
use writer::Writer;

const BACKEND: Backend = Backend::Sqlite;

/// The SQLite payload store. Cloning shares the same writer and read pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: SqlitePool,
    /// Recently committed payloads, answered without a query.
    recent: Arc<recent::Recent>,
    /// Background WAL checkpoints (file databases only); stops with the last clone.
    _checkpointer: Option<Arc<checkpointer::CheckpointerGuard>>,
}

fn sql_err(op: StoreOp, table: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::from_sqlx(BACKEND, op, table, e)
}

/// `SQLITE_BUSY` or `SQLITE_LOCKED` (any extended code): another connection holds a lock.
fn is_busy(e: &StoreError) -> bool {
    let StoreError::Unavailable { cause: Cause::Database(source), .. } = e else { return false };
    let Some(db) = source.as_database_error() else { return false };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and migrates it.
    ///
    /// Some of SQLite's locks at open (switching a new file to WAL, recovering the WAL index)
    /// answer `SQLITE_BUSY` at once instead of waiting for the busy timeout, so an open that
    /// races another open of the same file is retried until `acquire_timeout` has passed.
    pub async fn open_file(path: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        let deadline = tokio::time::Instant::now() + options.acquire_timeout;
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            match Self::open_file_once(path, options).await {
                Err(e) if is_busy(&e) && tokio::time::Instant::now() + pause < deadline => {
                    tracing::debug!(target: "qtm::store::sqlite", %e, "database busy at open; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    async fn open_file_once(path: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Unavailable {
                backend: BACKEND,
                op: StoreOp::Open,
                cause: Cause::Io { path: dir.to_owned(), source: Arc::new(source) },
            })?;
        }
        let synchronous = match options.sqlite_synchronous {
            Synchronous::Normal => SqliteSynchronous::Normal,
            Synchronous::Full => SqliteSynchronous::Full,
        };
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(options.acquire_timeout)
            .synchronous(synchronous)
            .foreign_keys(true)
            // the writer's multi-row statements come in one variant per row count
            .statement_cache_capacity(512)
            // fewer checkpoints: pages rewritten by many commits reach the database file once
            // checkpoints run in the background (see `checkpointer`), never in a group commit
            .pragma("wal_autocheckpoint", "0")
            // memory-mapped reads of the database file (no read syscalls for hot pages)
            .pragma("mmap_size", "268435456");
        let writer_options = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // the random-keyed hash index must stay cached for inserts (64 MiB)
            .pragma("cache_size", "-65536");
        // Small reader caches: reads come from the memory map, and a reader's whole page cache is
        // dropped at the start of every read after another connection's commit, at a cost that
        // grows with its size (`pcache1TruncateUnsafe` was 11 % of qtm's CPU with 16 MiB).
        let reader_options = base.clone().pragma("query_only", "ON").pragma("cache_size", "-1024");
        let recent = recent::Recent::for_file(path);
        let mut store = Self::open_with(writer_options, reader_options, options, recent).await?;
        let conn = base.connect().await.map_err(sql_err(StoreOp::Open, "database"))?;
        store._checkpointer = Some(Arc::new(checkpointer::spawn(conn)));
        Ok(store)
    }

    /// Opens a private in-memory database (tests). It lives as long as the store.
    pub async fn open_memory(options: &StoreOptions) -> Result<Self, StoreError> {
        // A fresh shared-cache name per call, so readers and the writer see the same database.
        let base = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(sql_err(StoreOp::Open, "database"))?
            .busy_timeout(options.acquire_timeout)
            .foreign_keys(true);
        Self::open_with(base.clone(), base, options, Arc::default()).await
    }

    async fn open_with(
        writer_options: SqliteConnectOptions,
        reader_options: SqliteConnectOptions,
        options: &StoreOptions,
        recent: Arc<recent::Recent>,
    ) -> Result<Self, StoreError> {
        let mut conn =
            writer_options.connect().await.map_err(sql_err(StoreOp::Open, "database"))?;
        migrate::run_sqlite(&mut conn).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(options.sqlite_read_connections.max(1))
            .min_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(reader_options)
            .await
            .map_err(sql_err(StoreOp::Open, "database"))?;
        Ok(SqliteStore {
            writer: Writer::spawn(conn, options.sqlite_max_batch, Arc::clone(&recent)),
            readers,
            recent,
            _checkpointer: None,
        })
    }

    /// Group-commit counters of this store's writer task.
    pub fn group_commit_stats(&self) -> GroupCommitStats {
        self.writer.stats()
    }

    async fn write(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        self.writer.submit(op).await
    }
}

#[async_trait::async_trait]
impl PayloadStore for SqliteStore {
    async fn save(&self, p: StoredPayload) -> Result<(), StoreError> {
        self.write(WriteOp::Save(p)).await.map(|_| ())
    }

    async fn save_batch(&self, ps: Vec<StoredPayload>) -> Result<(), StoreError> {
        if ps.is_empty() {
            return Ok(());
        }
        self.write(WriteOp::SaveBatch(ps)).await.map(|_| ())
    }

    async fn save_if_unchanged(
        &self,
        p: StoredPayload,
        expected_previous: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        self.write(WriteOp::SaveIfUnchanged(p, expected_previous.map(<[u8]>::to_vec)))
            .await
            .map(|_| ())
    }

    async fn find(&self, hash: &[u8; 64]) -> Result<Option<StoredPayload>, StoreError> {
        if let Some(p) = self.recent.payload(hash) {
            return Ok(Some(p));
        }
        let row: Option<PayloadRow> = sqlx::query_as(PAYLOAD_BY_HASH)
            .bind(&hash[..])
            .fetch_optional(&self.readers)
            .await
            .map_err(sql_err(StoreOp::Find, PAYLOAD_TABLE))?;
        row.map(|row| rows::payload_from_row(BACKEND, row)).transpose()
    }

    async fn find_many(
        &self,
        hashes: &[[u8; 64]],
    ) -> Result<Vec<Option<StoredPayload>>, StoreError> {
        let mut out: Vec<Option<StoredPayload>> =
            hashes.iter().map(|h| self.recent.payload(h)).collect();
        let missing: Vec<[u8; 64]> =
            hashes.iter().zip(&out).filter(|(_, p)| p.is_none()).map(|(h, _)| *h).collect();
        let mut from_db = Vec::with_capacity(missing.len());
        for chunk in missing.chunks(FIND_MANY_CHUNK) {
            let sql = format!("{PAYLOADS_BY_HASHES}({})", vec!["?"; chunk.len()].join(","));
            let mut query = sqlx::query_as::<_, PayloadRow>(&sql);
            for hash in chunk {
                query = query.bind(&hash[..]);
            }
            let found = query
                .fetch_all(&self.readers)
                .await
                .map_err(sql_err(StoreOp::Find, PAYLOAD_TABLE))?;
            from_db.extend(rows::in_requested_order(BACKEND, chunk, found)?);
        }
        let mut from_db = from_db.into_iter();
        for slot in out.iter_mut().filter(|p| p.is_none()) {
            *slot = from_db.next().flatten();
        }
        Ok(out)
    }

    async fn delete(&self, hash: &[u8; 64]) -> Result<bool, StoreError> {
        match self.write(WriteOp::Delete(*hash)).await? {
            WriteOutcome::Deleted(deleted) => Ok(deleted),
            WriteOutcome::Done => Ok(true),
        }
    }

    async fn find_by_recipient(
        &self,
        key: &[u8; 32],
        after: Option<[u8; 64]>,
        limit: u32,
    ) -> Result<Vec<StoredPayload>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let found: Vec<PayloadRow> = sqlx::query_as(
            "SELECT p.hash, p.encoded_payload, p.payload_codec, p.recipients, p.sender, p.timestamp
             FROM qtm_payload_recipient r JOIN qtm_payload p ON p.id = r.payload_id
             WHERE r.recipient = ?1
               AND r.payload_id > coalesce((SELECT id FROM qtm_payload WHERE hash = ?2), 0)
             ORDER BY r.payload_id LIMIT ?3",
        )
        .bind(&key[..])
        .bind(after_bound(after))
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await
        .map_err(sql_err(StoreOp::FindByRecipient, RECIPIENT_TABLE))?;
        found.into_iter().map(|row| rows::payload_from_row(BACKEND, row)).collect()
    }

    async fn save_raw(&self, p: StoredRawPayload) -> Result<(), StoreError> {
        self.write(WriteOp::SaveRaw(p)).await.map(|_| ())
    }

    async fn find_raw(&self, hash: &[u8; 64]) -> Result<Option<StoredRawPayload>, StoreError> {
        if let Some(r) = self.recent.raw(hash) {
            return Ok(Some(r));
        }
        let row: Option<RawRow> = sqlx::query_as(
            "SELECT hash, encrypted_payload, encrypted_key, nonce, sender, timestamp
             FROM qtm_raw_payload WHERE hash = ?1",
        )
        .bind(&hash[..])
        .fetch_optional(&self.readers)
        .await
        .map_err(sql_err(StoreOp::FindRaw, RAW_TABLE))?;
        row.map(|row| rows::raw_from_row(BACKEND, row)).transpose()
    }

    async fn delete_raw(&self, hash: &[u8; 64]) -> Result<bool, StoreError> {
        match self.write(WriteOp::DeleteRaw(*hash)).await? {
            WriteOutcome::Deleted(deleted) => Ok(deleted),
            WriteOutcome::Done => Ok(true),
        }
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM qtm_payload")
            .fetch_one(&self.readers)
            .await
            .map_err(sql_err(StoreOp::Count, PAYLOAD_TABLE))?;
        rows::count_from_db(BACKEND, n)
    }

    async fn upcheck(&self) -> Result<(), StoreError> {
        if !self.writer.is_alive() {
            return Err(StoreError::Unavailable {
                backend: BACKEND,
                op: StoreOp::Upcheck,
                cause: Cause::WriterStopped,
            });
        }
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM qtm_schema_migrations")
            .fetch_one(&self.readers)
            .await
            .map(|_| ())
            .map_err(sql_err(StoreOp::Upcheck, "qtm_schema_migrations"))
    }

    async fn save_privacy_group(&self, g: StoredPrivacyGroup) -> Result<(), StoreError> {
        self.write(WriteOp::SavePrivacyGroup(g)).await.map(|_| ())
    }

    async fn find_privacy_group(
        &self,
        id: &[u8],
    ) -> Result<Option<StoredPrivacyGroup>, StoreError> {
        let row: Option<GroupRow> = sqlx::query_as(
            "SELECT id, lookup_id, data, timestamp FROM qtm_privacy_group WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.readers)
        .await
        .map_err(sql_err(StoreOp::FindPrivacyGroup, GROUP_TABLE))?;
        Ok(row.map(rows::group_from_row))
    }

    async fn find_privacy_groups_by_lookup(
        &self,
        lookup_id: &[u8],
    ) -> Result<Vec<StoredPrivacyGroup>, StoreError> {
        let found: Vec<GroupRow> = sqlx::query_as(
            "SELECT id, lookup_id, data, timestamp FROM qtm_privacy_group WHERE lookup_id = ?1 ORDER BY id",
        )
        .bind(lookup_id)
        .fetch_all(&self.readers)
        .await
        .map_err(sql_err(StoreOp::FindPrivacyGroup, GROUP_TABLE))?;
        Ok(found.into_iter().map(rows::group_from_row).collect())
    }

    fn backend(&self) -> Backend {
        BACKEND
    }
}

/// Hashes per `find_many` query (SQLite allows 32,766 parameters).
const FIND_MANY_CHUNK: usize = 500;
/// Followed by the parenthesised parameter list.
const PAYLOADS_BY_HASHES: &str = "SELECT hash, encoded_payload, payload_codec, recipients, sender, timestamp FROM qtm_payload WHERE hash IN ";
const PAYLOAD_BY_HASH: &str = "SELECT hash, encoded_payload, payload_codec, recipients, sender, timestamp FROM qtm_payload WHERE hash = ?1";
