//! The SQL behind every SQLite write, run by the writer task inside its open transaction.

use std::{future::Future, pin::Pin};

use sqlx::SqliteConnection;

use crate::{
    error::{Backend, StoreError, StoreOp},
    model::{StoredPayload, StoredPrivacyGroup, StoredRawPayload},
    rows::{
        GROUP_TABLE, PAYLOAD_TABLE, RAW_TABLE, RECIPIENT_TABLE, concat_keys, unique_recipients,
    },
    sqlite::bulk::{RunItem, insert_recipient_pairs, save_items, save_run},
};

/// A boxed, `Send` future borrowing the connection.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A write request for the group-commit writer.
#[derive(Debug)]
pub(crate) enum WriteOp {
    Save(StoredPayload),
    SaveBatch(Vec<StoredPayload>),
    SaveIfUnchanged(StoredPayload, Option<Vec<u8>>),
    Delete([u8; 64]),
    SaveRaw(StoredRawPayload),
    DeleteRaw([u8; 64]),
    SavePrivacyGroup(StoredPrivacyGroup),
}

impl WriteOp {
    pub(crate) fn store_op(&self) -> StoreOp {
        match self {
            WriteOp::Save(_) => StoreOp::Save,
            WriteOp::SaveBatch(_) => StoreOp::SaveBatch,
            WriteOp::SaveIfUnchanged(..) => StoreOp::SaveIfUnchanged,
            WriteOp::Delete(_) => StoreOp::Delete,
            WriteOp::SaveRaw(_) => StoreOp::SaveRaw,
            WriteOp::DeleteRaw(_) => StoreOp::DeleteRaw,
            WriteOp::SavePrivacyGroup(_) => StoreOp::SavePrivacyGroup,
        }
    }

    /// Rough size, to bound how much one group commit carries.
    pub(crate) fn weight(&self) -> usize {
        match self {
            WriteOp::Save(p) | WriteOp::SaveIfUnchanged(p, _) => p.encoded_payload.len(),
            WriteOp::SaveBatch(ps) => ps.iter().map(|p| p.encoded_payload.len()).sum(),
            WriteOp::SaveRaw(p) => p.encrypted_payload.len(),
            WriteOp::SavePrivacyGroup(g) => g.data.len(),
            WriteOp::Delete(_) | WriteOp::DeleteRaw(_) => 0,
        }
    }
}

/// What a successful write reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteOutcome {
    Done,
    Deleted(bool),
}

/// How applying one op inside a transaction failed.
#[derive(Debug)]
pub(crate) enum ApplyError {
    /// A conditional write found a different row; nothing was written, the transaction is
    /// still good for the other ops.
    Conflict(StoreError),
    /// A statement failed; the transaction must be rolled back.
    Statement(StoreError),
}

fn stmt(op: StoreOp, table: &'static str) -> impl Fn(sqlx::Error) -> ApplyError {
    move |e| ApplyError::Statement(StoreError::from_sqlx(Backend::Sqlite, op, table, e))
}

/// Applies `op` on `conn` (inside the caller's transaction).
///
/// Boxed with an explicit `Send` bound: this pins the connection borrow to one lifetime, which
/// the compiler cannot infer through sqlx's executor traits inside a spawned task.
pub(crate) fn apply<'a>(
    conn: &'a mut SqliteConnection,
    op: &'a WriteOp,
) -> BoxFuture<'a, Result<WriteOutcome, ApplyError>> {
    Box::pin(apply_inner(conn, op))
}

async fn apply_inner(
    conn: &mut SqliteConnection,
    op: &WriteOp,
) -> Result<WriteOutcome, ApplyError> {
    let store_op = op.store_op();
    match op {
        WriteOp::Save(p) => save_run(conn, &[p], store_op).await.map(|()| WriteOutcome::Done),
        WriteOp::SaveBatch(ps) => {
            let run: Vec<&StoredPayload> = ps.iter().collect();
            save_run(conn, &run, store_op).await?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SaveIfUnchanged(p, expected) => {
            let current: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT encoded_payload FROM qtm_payload WHERE hash = ?1")
                    .bind(&p.hash[..])
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(stmt(store_op, PAYLOAD_TABLE))?;
            if current != *expected {
                return Err(ApplyError::Conflict(StoreError::Conflict {
                    op: store_op,
                    hash: p.hash,
                }));
            }
            upsert_payload(conn, p, store_op).await
        }
        WriteOp::Delete(hash) => {
            let deleted: Option<(i64, Vec<u8>)> =
                sqlx::query_as("DELETE FROM qtm_payload WHERE hash = ?1 RETURNING id, recipients")
                    .bind(&hash[..])
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(stmt(store_op, PAYLOAD_TABLE))?;
            if let Some((id, recipients)) = &deleted {
                delete_index_entries(conn, *id, recipients, store_op).await?;
            }
            Ok(WriteOutcome::Deleted(deleted.is_some()))
        }
        WriteOp::SaveRaw(r) => {
            sqlx::query(
                "INSERT INTO qtm_raw_payload (hash, encrypted_payload, encrypted_key, nonce, sender, timestamp)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (hash) DO UPDATE SET encrypted_payload = excluded.encrypted_payload,
                   encrypted_key = excluded.encrypted_key, nonce = excluded.nonce,
                   sender = excluded.sender, timestamp = excluded.timestamp",
            )
            .bind(&r.hash[..])
            .bind(&r.encrypted_payload)
            .bind(&r.encrypted_key)
            .bind(&r.nonce)
            .bind(&r.sender[..])
            .bind(r.timestamp)
            .execute(&mut *conn)
            .await
            .map_err(stmt(store_op, RAW_TABLE))?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::DeleteRaw(hash) => {
            let done = sqlx::query("DELETE FROM qtm_raw_payload WHERE hash = ?1")
                .bind(&hash[..])
                .execute(&mut *conn)
                .await
                .map_err(stmt(store_op, RAW_TABLE))?;
            Ok(WriteOutcome::Deleted(done.rows_affected() > 0))
        }
        WriteOp::SavePrivacyGroup(g) => {
            sqlx::query(
                "INSERT INTO qtm_privacy_group (id, lookup_id, data, timestamp) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET lookup_id = excluded.lookup_id, data = excluded.data,
                   timestamp = excluded.timestamp",
            )
            .bind(&g.id)
            .bind(&g.lookup_id)
            .bind(&g.data)
            .bind(g.timestamp)
            .execute(&mut *conn)
            .await
            .map_err(stmt(store_op, GROUP_TABLE))?;
            Ok(WriteOutcome::Done)
        }
    }
}

/// Applies `ops` in order inside the caller's transaction, writing consecutive saves with
/// multi-row statements. A statement error aborts (the caller rolls back and replays); a
/// conditional write's conflict is that op's own outcome.
pub(crate) fn apply_all<'a>(
    conn: &'a mut SqliteConnection,
    ops: Vec<&'a WriteOp>,
) -> BoxFuture<'a, Result<Vec<Result<WriteOutcome, StoreError>>, StoreError>> {
    Box::pin(async move {
        let mut outcomes: Vec<Result<WriteOutcome, StoreError>> = Vec::with_capacity(ops.len());
        let mut run: Vec<RunItem<'a>> = Vec::new();
        for op in ops {
            match op {
                WriteOp::Save(payload) => run.push(RunItem { payload, insert_only: None }),
                WriteOp::SaveBatch(ps) => {
                    run.extend(ps.iter().map(|payload| RunItem { payload, insert_only: None }))
                }
                // Insert-if-absent (merge-on-push's common case) also takes the bulk path.
                WriteOp::SaveIfUnchanged(payload, None) => {
                    run.push(RunItem { payload, insert_only: Some(outcomes.len()) })
                }
                other => {
                    flush(conn, &mut run, &mut outcomes).await?;
                    match apply(conn, other).await {
                        Ok(outcome) => outcomes.push(Ok(outcome)),
                        Err(ApplyError::Conflict(e)) => outcomes.push(Err(e)),
                        Err(ApplyError::Statement(e)) => return Err(e),
                    }
                    continue;
                }
            }
            outcomes.push(Ok(WriteOutcome::Done));
        }
        flush(conn, &mut run, &mut outcomes).await?;
        Ok(outcomes)
    })
}

/// Writes the pending run; marks its conflicted insert-only saves in `outcomes`.
async fn flush(
    conn: &mut SqliteConnection,
    run: &mut Vec<RunItem<'_>>,
    outcomes: &mut [Result<WriteOutcome, StoreError>],
) -> Result<(), StoreError> {
    if run.is_empty() {
        return Ok(());
    }
    let result = save_items(conn, run, StoreOp::Save).await;
    let hashes: Vec<(usize, [u8; 64])> = run
        .iter()
        .filter_map(|item| item.insert_only.map(|tag| (tag, item.payload.hash)))
        .collect();
    run.clear();
    let conflicted = result.map_err(|(ApplyError::Conflict(e) | ApplyError::Statement(e))| e)?;
    for tag in conflicted {
        let hash = hashes.iter().find(|(t, _)| *t == tag).map(|(_, h)| *h);
        if let (Some(outcome), Some(hash)) = (outcomes.get_mut(tag), hash) {
            *outcome = Err(StoreError::Conflict { op: StoreOp::SaveIfUnchanged, hash });
        }
    }
    Ok(())
}

/// Insert, or replace the row and its recipient index entries (the row keeps its id).
pub(crate) async fn upsert_payload(
    conn: &mut SqliteConnection,
    p: &StoredPayload,
    op: StoreOp,
) -> Result<WriteOutcome, ApplyError> {
    let recipients = unique_recipients(&p.recipients);
    let existing: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, recipients FROM qtm_payload WHERE hash = ?1")
            .bind(&p.hash[..])
            .fetch_optional(&mut *conn)
            .await
            .map_err(stmt(op, PAYLOAD_TABLE))?;
    let id = match existing {
        None => sqlx::query_scalar::<_, i64>(
            "INSERT INTO qtm_payload (hash, encoded_payload, payload_codec, recipients, sender, timestamp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )
        .bind(&p.hash[..])
        .bind(&p.encoded_payload)
        .bind(p.codec.as_str())
        .bind(concat_keys(&recipients))
        .bind(&p.sender[..])
        .bind(p.timestamp)
        .fetch_one(&mut *conn)
        .await
        .map_err(stmt(op, PAYLOAD_TABLE))?,
        Some((id, old_recipients)) => {
            sqlx::query(
                "UPDATE qtm_payload SET encoded_payload = ?2, payload_codec = ?3, recipients = ?4,
                   sender = ?5, timestamp = ?6 WHERE id = ?1",
            )
            .bind(id)
            .bind(&p.encoded_payload)
            .bind(p.codec.as_str())
            .bind(concat_keys(&recipients))
            .bind(&p.sender[..])
            .bind(p.timestamp)
            .execute(&mut *conn)
            .await
            .map_err(stmt(op, PAYLOAD_TABLE))?;
            delete_index_entries(conn, id, &old_recipients, op).await?;
            id
        }
    };
    let pairs: Vec<_> = recipients.into_iter().map(|key| (key, id)).collect();
    insert_recipient_pairs(conn, &pairs, op).await?;
    Ok(WriteOutcome::Done)
}

/// Removes the index entries of payload `id` for the concatenated keys `recipients`.
async fn delete_index_entries(
    conn: &mut SqliteConnection,
    id: i64,
    recipients: &[u8],
    op: StoreOp,
) -> Result<(), ApplyError> {
    for key in recipients.chunks_exact(32) {
        sqlx::query("DELETE FROM qtm_payload_recipient WHERE recipient = ?1 AND payload_id = ?2")
            .bind(key)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(stmt(op, RECIPIENT_TABLE))?;
    }
    Ok(())
}
