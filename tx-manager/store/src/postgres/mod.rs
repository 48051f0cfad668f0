//! PostgreSQL backend: a connection pool; `save`s go through a per-process group commit
//! ([`group_commit`]), every other write is a single atomic statement (or one transaction for
//! `save_batch`). No process-local state matters for correctness, so any number of qtm
//! processes can share one database.

mod group_commit;

use sqlx::{
    ConnectOptions as _, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{
    PayloadStore,
    error::{Backend, StoreError, StoreOp},
    migrate,
    model::{StoredPayload, StoredPrivacyGroup, StoredRawPayload},
    options::StoreOptions,
    rows::{self, GroupRow, PayloadRow, RawRow, after_bound, concat_keys, unique_recipients},
    rows::{GROUP_TABLE, PAYLOAD_TABLE, RAW_TABLE, RECIPIENT_TABLE},
};

const BACKEND: Backend = Backend::Postgres;

/// The PostgreSQL payload store. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    saves: group_commit::SaveQueue,
}

fn sql_err(op: StoreOp, table: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::from_sqlx(BACKEND, op, table, e)
}

/// Insert or replace; stale index entries removed, new ones added, in one statement.
const UPSERT: &str = "
WITH upserted AS (
    INSERT INTO qtm_payload (hash, encoded_payload, payload_codec, recipients, sender, timestamp)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (hash) DO UPDATE SET encoded_payload = EXCLUDED.encoded_payload,
        payload_codec = EXCLUDED.payload_codec, recipients = EXCLUDED.recipients,
        sender = EXCLUDED.sender, timestamp = EXCLUDED.timestamp
    RETURNING id
), stale AS (
    DELETE FROM qtm_payload_recipient r USING upserted u
    WHERE r.payload_id = u.id AND NOT (r.recipient = ANY($7::bytea[]))
), added AS (
    INSERT INTO qtm_payload_recipient (recipient, payload_id)
    SELECT k, u.id FROM unnest($7::bytea[]) AS k CROSS JOIN upserted u
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM upserted";

/// Insert only if absent.
const INSERT_NEW: &str = "
WITH inserted AS (
    INSERT INTO qtm_payload (hash, encoded_payload, payload_codec, recipients, sender, timestamp)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (hash) DO NOTHING
    RETURNING id
), added AS (
    INSERT INTO qtm_payload_recipient (recipient, payload_id)
    SELECT k, i.id FROM unnest($7::bytea[]) AS k CROSS JOIN inserted i
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM inserted";

/// Replace only if the stored payload is still `$8`. Under READ COMMITTED a concurrent
/// writer's UPDATE makes this one re-check `$8` against the new row, so exactly one wins.
const REPLACE_IF: &str = "
WITH updated AS (
    UPDATE qtm_payload SET encoded_payload = $2, payload_codec = $3, recipients = $4, sender = $5,
        timestamp = $6
    WHERE hash = $1 AND encoded_payload = $8
    RETURNING id
), stale AS (
    DELETE FROM qtm_payload_recipient r USING updated u
    WHERE r.payload_id = u.id AND NOT (r.recipient = ANY($7::bytea[]))
), added AS (
    INSERT INTO qtm_payload_recipient (recipient, payload_id)
    SELECT k, u.id FROM unnest($7::bytea[]) AS k CROSS JOIN updated u
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM updated";

/// Hashes per `find_many` query.
const FIND_MANY_CHUNK: usize = 1_000;
const PAYLOADS_BY_HASHES: &str = "SELECT hash, encoded_payload, payload_codec, recipients, sender, timestamp FROM qtm_payload WHERE hash = ANY($1)";
const PAYLOAD_BY_HASH: &str = "SELECT hash, encoded_payload, payload_codec, recipients, sender, timestamp FROM qtm_payload WHERE hash = $1";

impl PostgresStore {
    /// Connects to `url` (a `postgres://` URL), using `schema` as `search_path` if given,
    /// and migrates the schema.
    pub async fn open(
        url: &url::Url,
        schema: Option<&str>,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let mut connect =
            PgConnectOptions::from_url(url).map_err(sql_err(StoreOp::Open, "database"))?;
        if let Some(schema) = schema {
            connect = connect.options([("search_path", migrate::quote_ident(schema))]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.postgres_max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(sql_err(StoreOp::Open, "database"))?;
        let mut conn = pool.acquire().await.map_err(sql_err(StoreOp::Open, "database"))?;
        migrate::run_postgres(&mut conn, schema).await?;
        drop(conn);
        let saves = group_commit::SaveQueue::spawn(pool.clone(), options.postgres_max_batch);
        Ok(PostgresStore { pool, saves })
    }

    /// The connection pool (for tests and tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection; later calls fail with [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_payload<'c, E>(
        executor: E,
        sql: &'static str,
        p: &StoredPayload,
        expected: Option<&[u8]>,
        op: StoreOp,
    ) -> Result<bool, StoreError>
    where
        E: sqlx::PgExecutor<'c>,
    {
        let recipients = unique_recipients(&p.recipients);
        let keys: Vec<Vec<u8>> = recipients.iter().map(|k| k.to_vec()).collect();
        let mut query = sqlx::query_scalar::<_, i64>(sql)
            .bind(&p.hash[..])
            .bind(&p.encoded_payload)
            .bind(p.codec.as_str())
            .bind(concat_keys(&recipients))
            .bind(&p.sender[..])
            .bind(p.timestamp)
            .bind(keys);
        if let Some(expected) = expected {
            query = query.bind(expected);
        }
        let written = query.fetch_one(executor).await.map_err(sql_err(op, PAYLOAD_TABLE))?;
        Ok(written > 0)
    }
}

#[async_trait::async_trait]
impl PayloadStore for PostgresStore {
    async fn save(&self, p: StoredPayload) -> Result<(), StoreError> {
        self.saves.save(p).await
    }

    async fn save_batch(&self, ps: Vec<StoredPayload>) -> Result<(), StoreError> {
        if ps.is_empty() {
            return Ok(());
        }
        let op = StoreOp::SaveBatch;
        let mut tx = self.pool.begin().await.map_err(sql_err(op, PAYLOAD_TABLE))?;
        for p in &ps {
            Self::write_payload(&mut *tx, UPSERT, p, None, op).await?;
        }
        tx.commit().await.map_err(sql_err(StoreOp::Commit, PAYLOAD_TABLE))
    }

    async fn save_if_unchanged(
        &self,
        p: StoredPayload,
        expected_previous: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let op = StoreOp::SaveIfUnchanged;
        let sql = if expected_previous.is_some() { REPLACE_IF } else { INSERT_NEW };
        if Self::write_payload(&self.pool, sql, &p, expected_previous, op).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict { op, hash: p.hash })
        }
    }

    async fn find(&self, hash: &[u8; 64]) -> Result<Option<StoredPayload>, StoreError> {
        let row: Option<PayloadRow> = sqlx::query_as(PAYLOAD_BY_HASH)
            .bind(&hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(sql_err(StoreOp::Find, PAYLOAD_TABLE))?;
        row.map(|row| rows::payload_from_row(BACKEND, row)).transpose()
    }

    async fn find_many(
        &self,
        hashes: &[[u8; 64]],
    ) -> Result<Vec<Option<StoredPayload>>, StoreError> {
        let mut out = Vec::with_capacity(hashes.len());
        for chunk in hashes.chunks(FIND_MANY_CHUNK) {
            let keys: Vec<&[u8]> = chunk.iter().map(|h| &h[..]).collect();
            let found: Vec<PayloadRow> = sqlx::query_as(PAYLOADS_BY_HASHES)
                .bind(&keys)
                .fetch_all(&self.pool)
                .await
                .map_err(sql_err(StoreOp::Find, PAYLOAD_TABLE))?;
            out.extend(rows::in_requested_order(BACKEND, chunk, found)?);
        }
        Ok(out)
    }

    async fn delete(&self, hash: &[u8; 64]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM qtm_payload WHERE hash = $1")
            .bind(&hash[..])
            .execute(&self.pool)
            .await
            .map_err(sql_err(StoreOp::Delete, PAYLOAD_TABLE))?;
        Ok(done.rows_affected() > 0)
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
             WHERE r.recipient = $1
               AND r.payload_id > coalesce((SELECT id FROM qtm_payload WHERE hash = $2), 0)
             ORDER BY r.payload_id LIMIT $3",
        )
        .bind(&key[..])
        .bind(after_bound(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(sql_err(StoreOp::FindByRecipient, RECIPIENT_TABLE))?;
        found.into_iter().map(|row| rows::payload_from_row(BACKEND, row)).collect()
    }

    async fn save_raw(&self, r: StoredRawPayload) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO qtm_raw_payload (hash, encrypted_payload, encrypted_key, nonce, sender, timestamp)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (hash) DO UPDATE SET encrypted_payload = EXCLUDED.encrypted_payload,
               encrypted_key = EXCLUDED.encrypted_key, nonce = EXCLUDED.nonce,
               sender = EXCLUDED.sender, timestamp = EXCLUDED.timestamp",
        )
        .bind(&r.hash[..])
        .bind(&r.encrypted_payload)
        .bind(&r.encrypted_key)
        .bind(&r.nonce)
        .bind(&r.sender[..])
        .bind(r.timestamp)
        .execute(&self.pool)
        .await
        .map_err(sql_err(StoreOp::SaveRaw, RAW_TABLE))?;
        Ok(())
    }

    async fn find_raw(&self, hash: &[u8; 64]) -> Result<Option<StoredRawPayload>, StoreError> {
        let row: Option<RawRow> = sqlx::query_as(
            "SELECT hash, encrypted_payload, encrypted_key, nonce, sender, timestamp
             FROM qtm_raw_payload WHERE hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(sql_err(StoreOp::FindRaw, RAW_TABLE))?;
        row.map(|row| rows::raw_from_row(BACKEND, row)).transpose()
    }

    async fn delete_raw(&self, hash: &[u8; 64]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM qtm_raw_payload WHERE hash = $1")
            .bind(&hash[..])
            .execute(&self.pool)
            .await
            .map_err(sql_err(StoreOp::DeleteRaw, RAW_TABLE))?;
        Ok(done.rows_affected() > 0)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM qtm_payload")
            .fetch_one(&self.pool)
            .await
            .map_err(sql_err(StoreOp::Count, PAYLOAD_TABLE))?;
        rows::count_from_db(BACKEND, n)
    }

    async fn upcheck(&self) -> Result<(), StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM qtm_schema_migrations")
            .fetch_one(&self.pool)
            .await
            .map(|_| ())
            .map_err(sql_err(StoreOp::Upcheck, "qtm_schema_migrations"))
    }

    async fn save_privacy_group(&self, g: StoredPrivacyGroup) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO qtm_privacy_group (id, lookup_id, data, timestamp) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET lookup_id = EXCLUDED.lookup_id, data = EXCLUDED.data,
               timestamp = EXCLUDED.timestamp",
        )
        .bind(&g.id)
        .bind(&g.lookup_id)
        .bind(&g.data)
        .bind(g.timestamp)
        .execute(&self.pool)
        .await
        .map_err(sql_err(StoreOp::SavePrivacyGroup, GROUP_TABLE))?;
        Ok(())
    }

    async fn find_privacy_group(
        &self,
        id: &[u8],
    ) -> Result<Option<StoredPrivacyGroup>, StoreError> {
        let row: Option<GroupRow> = sqlx::query_as(
            "SELECT id, lookup_id, data, timestamp FROM qtm_privacy_group WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(sql_err(StoreOp::FindPrivacyGroup, GROUP_TABLE))?;
        Ok(row.map(rows::group_from_row))
    }

    async fn find_privacy_groups_by_lookup(
        &self,
        lookup_id: &[u8],
    ) -> Result<Vec<StoredPrivacyGroup>, StoreError> {
        let found: Vec<GroupRow> = sqlx::query_as(
            "SELECT id, lookup_id, data, timestamp FROM qtm_privacy_group WHERE lookup_id = $1 ORDER BY id",
        )
        .bind(lookup_id)
        .fetch_all(&self.pool)
        .await
        .map_err(sql_err(StoreOp::FindPrivacyGroup, GROUP_TABLE))?;
        Ok(found.into_iter().map(rows::group_from_row).collect())
    }

    fn backend(&self) -> Backend {
        BACKEND
    }
}
