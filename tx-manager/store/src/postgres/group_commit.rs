//! Group commit for PostgreSQL `save`s: each commit costs a WAL flush (fsync) on the server,
//! so one writer task per process takes the queued saves and writes all new rows with one
//! autocommit array statement (`unnest`), whatever the batch size; rows that already exist are
//! replaced one statement each. Every caller is answered after its rows are committed. If a
//! statement is refused (e.g. a constraint), each save of the batch is retried alone (saves are
//! idempotent), so the error reaches only its own caller. On any other failure every caller in
//! the batch gets that error and the connection is replaced.
//!
//! This holds no state that matters across processes: each process's batches are ordinary
//! transactions, so any number of processes can share the database.

use std::collections::HashSet;

use sqlx::{PgPool, Postgres, pool::PoolConnection};
use tokio::sync::{mpsc, oneshot};

use super::{BACKEND, PostgresStore, UPSERT, sql_err};
use crate::{
    error::{Cause, StoreError, StoreOp},
    model::StoredPayload,
    rows::{PAYLOAD_TABLE, concat_keys, unique_recipients},
};

const QUEUE_DEPTH: usize = 8192;

/// Inserts the new rows of a batch and their index entries (`$7`/`$8`: recipient/hash pairs);
/// returns the hashes inserted.
const BULK_SAVE: &str = "
WITH inserted AS (
    INSERT INTO qtm_payload (hash, encoded_payload, payload_codec, recipients, sender, timestamp)
    SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::text[], $4::bytea[], $5::bytea[], $6::int8[])
    ON CONFLICT (hash) DO NOTHING
    RETURNING hash, id
), indexed AS (
    INSERT INTO qtm_payload_recipient (recipient, payload_id)
    SELECT k.recipient, i.id FROM unnest($7::bytea[], $8::bytea[]) AS k (recipient, hash)
    JOIN inserted i ON i.hash = k.hash
    ON CONFLICT DO NOTHING
)
SELECT hash FROM inserted";

type Reply = oneshot::Sender<Result<(), StoreError>>;

#[derive(Debug)]
struct Request {
    payload: StoredPayload,
    reply: Reply,
}

/// Handle to the writer task; the task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct SaveQueue {
    queue: mpsc::Sender<Request>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable { backend: BACKEND, op: StoreOp::Save, cause: Cause::WriterStopped }
}

impl SaveQueue {
    pub(crate) fn spawn(pool: PgPool, max_batch: usize) -> Self {
        let (queue, requests) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(pool, requests, max_batch.max(1)));
        SaveQueue { queue }
    }

    /// Queues a save and waits for its commit.
    pub(crate) async fn save(&self, payload: StoredPayload) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Request { payload, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: PgPool, mut requests: mpsc::Receiver<Request>, max_batch: usize) {
    let mut conn: Option<PoolConnection<Postgres>> = None;
    let mut batch = Vec::with_capacity(max_batch);
    while requests.recv_many(&mut batch, max_batch).await > 0 {
        let mut current = match conn.take() {
            Some(c) => c,
            None => match pool.acquire().await {
                Ok(c) => c,
                Err(e) => {
                    let e = StoreError::from_sqlx(BACKEND, StoreOp::Save, PAYLOAD_TABLE, e);
                    for request in batch.drain(..) {
                        let _ = request.reply.send(Err(e.clone()));
                    }
                    continue;
                }
            },
        };
        // Hash order: concurrent batches of several processes then take their unique-index
        // locks in the same order and cannot deadlock. (Stable: saves of one hash keep their order.)
        let mut payloads: Vec<&StoredPayload> = batch.iter().map(|r| &r.payload).collect();
        payloads.sort_by_key(|p| p.hash);
        match write_batch(&mut current, &payloads).await {
            Ok(()) => {
                conn = Some(current);
                for request in batch.drain(..) {
                    let _ = request.reply.send(Ok(()));
                }
            }
            Err(e @ StoreError::Rejected { .. }) => {
                conn = Some(current);
                tracing::debug!(target: "qtm::store::postgres", %e, size = batch.len(),
                    "a save failed inside a group commit; retrying the batch one by one");
                for request in batch.drain(..) {
                    let result = PostgresStore::write_payload(
                        &pool,
                        UPSERT,
                        &request.payload,
                        None,
                        StoreOp::Save,
                    )
                    .await
                    .map(|_| ());
                    let _ = request.reply.send(result);
                }
            }
            Err(e) => {
                // The connection may be broken: drop it (never reuse it) and answer everyone.
                tracing::warn!(target: "qtm::store::postgres", %e, size = batch.len(), "group commit failed");
                drop(current.detach());
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Writes `payloads` (in order; a later save of a hash wins). New rows and their index entries
/// go in one autocommit statement (one round trip, one WAL flush for the whole batch); rows
/// that already exist are then replaced one statement each, in order.
async fn write_batch(
    conn: &mut PoolConnection<Postgres>,
    payloads: &[&StoredPayload],
) -> Result<(), StoreError> {
    let op = StoreOp::Save;
    let unique: Vec<_> = payloads.iter().map(|p| unique_recipients(&p.recipients)).collect();
    let (mut index_keys, mut index_hashes) = (Vec::new(), Vec::new());
    for (p, recipients) in payloads.iter().zip(&unique) {
        for key in recipients {
            index_keys.push(key.to_vec());
            index_hashes.push(p.hash.to_vec());
        }
    }
    let inserted: HashSet<Vec<u8>> = sqlx::query_scalar::<_, Vec<u8>>(BULK_SAVE)
        .bind(payloads.iter().map(|p| p.hash.to_vec()).collect::<Vec<_>>())
        .bind(payloads.iter().map(|p| p.encoded_payload.clone()).collect::<Vec<_>>())
        .bind(payloads.iter().map(|p| p.codec.as_str()).collect::<Vec<_>>())
        .bind(unique.iter().map(|keys| concat_keys(keys)).collect::<Vec<_>>())
        .bind(payloads.iter().map(|p| p.sender.to_vec()).collect::<Vec<_>>())
        .bind(payloads.iter().map(|p| p.timestamp).collect::<Vec<_>>())
        .bind(index_keys)
        .bind(index_hashes)
        .fetch_all(&mut **conn)
        .await
        .map_err(sql_err(op, PAYLOAD_TABLE))?
        .into_iter()
        .collect();
    // Of several saves of one new hash, the first was inserted; the rest replace it (UPSERT
    // also drops the index entries the first one added for keys the later one lacks).
    let mut claimed: HashSet<&[u8]> = HashSet::new();
    for p in payloads {
        if !(inserted.contains(&p.hash[..]) && claimed.insert(&p.hash[..])) {
            PostgresStore::write_payload(&mut **conn, UPSERT, p, None, op).await?;
        }
    }
    Ok(())
}
