//! Group commit: the single SQLite writer task.
//!
//! Every write is sent to one task that owns the only writing connection. It takes whatever
//! requests are queued (up to `max_batch` requests / [`MAX_BATCH_BYTES`]), applies them in
//! order inside one `BEGIN IMMEDIATE` transaction and commits once. Each caller is answered only
//! after that commit returned:
//! - commit succeeded: every caller gets its own outcome;
//! - the commit itself failed: every caller in the batch gets that error;
//! - one request's statement failed (e.g. a constraint): the transaction is rolled back and the
//!   requests are replayed one transaction each, so one bad request cannot fail its neighbours
//!   and a multi-row request (`save_batch`) stays all-or-nothing.
//!
//! A conditional write that finds a different row ([`StoreError::Conflict`]) writes nothing and
//! does not disturb the batch.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use crate::{
    error::{Backend, Cause, StoreError, StoreOp},
    sqlite::{
        recent::Recent,
        write_ops::{ApplyError, WriteOp, WriteOutcome, apply, apply_all},
    },
};

/// Largest total payload size one group commit carries.
const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Requests queued before callers wait for room (back-pressure).
const QUEUE_DEPTH: usize = 8192;

type Reply = oneshot::Sender<Result<WriteOutcome, StoreError>>;

#[derive(Debug)]
struct Request {
    op: WriteOp,
    reply: Reply,
}

/// Handle to the writer task; cheap to clone. The task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Request>,
    stats: Arc<Counters>,
}

/// Counters of the writer task, for tests, benches and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Transactions committed (or attempted) by the writer.
    pub transactions: u64,
    /// Write requests answered.
    pub requests: u64,
    /// Most requests carried by one transaction.
    pub largest_batch: u64,
}

#[derive(Debug, Default)]
struct Counters {
    transactions: AtomicU64,
    requests: AtomicU64,
    largest_batch: AtomicU64,
}

impl Counters {
    fn record(&self, transactions: u64, requests: u64) {
        self.transactions.fetch_add(transactions, Ordering::Relaxed);
        self.requests.fetch_add(requests, Ordering::Relaxed);
        self.largest_batch.fetch_max(requests, Ordering::Relaxed);
    }
}

fn stopped(op: StoreOp) -> StoreError {
    StoreError::Unavailable { backend: Backend::Sqlite, op, cause: Cause::WriterStopped }
}

impl Writer {
    /// Starts the writer task on `conn` (which must not be used by anyone else); it records
    /// every committed write in `recent`.
    pub(crate) fn spawn(conn: SqliteConnection, max_batch: usize, recent: Arc<Recent>) -> Self {
        let (queue, requests) = mpsc::channel(QUEUE_DEPTH);
        let stats = Arc::new(Counters::default());
        tokio::spawn(run(conn, requests, max_batch.max(1), Arc::clone(&stats), recent));
        Writer { queue, stats }
    }

    /// Queues `op` and waits until it is committed (or failed).
    pub(crate) async fn submit(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        let store_op = op.store_op();
        let (reply, answer) = oneshot::channel();
        self.queue.send(Request { op, reply }).await.map_err(|_| stopped(store_op))?;
        answer.await.map_err(|_| stopped(store_op))?
    }

    /// `true` while the writer task is running.
    pub(crate) fn is_alive(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Counters so far.
    pub(crate) fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            transactions: self.stats.transactions.load(Ordering::Relaxed),
            requests: self.stats.requests.load(Ordering::Relaxed),
            largest_batch: self.stats.largest_batch.load(Ordering::Relaxed),
        }
    }
}

async fn run(
    mut conn: SqliteConnection,
    mut requests: mpsc::Receiver<Request>,
    max_batch: usize,
    stats: Arc<Counters>,
    recent: Arc<Recent>,
) {
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    let mut carry: Option<Request> = None;
    loop {
        if let Some(first) = carry.take() {
            batch.push(first);
        } else {
            match requests.recv().await {
                Some(first) => batch.push(first),
                None => break,
            }
        }
        let mut bytes = batch.iter().map(|r| r.op.weight()).sum::<usize>();
        while batch.len() < max_batch && bytes < MAX_BATCH_BYTES {
            match requests.try_recv() {
                Ok(next) => {
                    bytes += next.op.weight();
                    if bytes > MAX_BATCH_BYTES {
                        carry = Some(next);
                        break;
                    }
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let size = batch.len() as u64;
        let transactions = commit_batch(&mut conn, &mut batch, &recent).await;
        stats.record(transactions, size);
    }
    tracing::debug!(target: "qtm::store::sqlite", "writer task stopping");
    if let Err(e) = sqlx::Connection::close(conn).await {
        tracing::warn!(target: "qtm::store::sqlite", %e, "closing the SQLite writer connection failed");
    }
}

fn exec<'a>(
    conn: &'a mut SqliteConnection,
    sql: &'static str,
    op: StoreOp,
) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
    Box::pin(async move {
        // `query` (not `raw_sql`): one statement, prepared once and cached on the connection.
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::from_sqlx(Backend::Sqlite, op, "transaction", e))
    })
}

async fn rollback(conn: &mut SqliteConnection) {
    if let Err(e) = exec(conn, "ROLLBACK", StoreOp::Commit).await {
        tracing::warn!(target: "qtm::store::sqlite", %e, "rollback failed");
    }
}

/// Commits `batch` as one transaction and answers every request; leaves `batch` empty.
/// Returns how many transactions it took.
async fn commit_batch(
    conn: &mut SqliteConnection,
    batch: &mut Vec<Request>,
    recent: &Recent,
) -> u64 {
    if batch.len() == 1 {
        return replay_one_by_one(conn, batch, recent).await;
    }
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE", StoreOp::Commit).await {
        for request in batch.drain(..) {
            let _ = request.reply.send(Err(e.clone()));
        }
        return 1;
    }
    let outcomes = match apply_all(conn, batch.iter().map(|r| &r.op).collect()).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            tracing::debug!(target: "qtm::store::sqlite", %e, size = batch.len(),
                "a request failed inside a group commit; replaying the batch one by one");
            rollback(conn).await;
            return 1 + replay_one_by_one(conn, batch, recent).await;
        }
    };
    let _order = recent.commit_order.lock().await;
    match exec(conn, "COMMIT", StoreOp::Commit).await {
        Ok(()) => {
            for (request, outcome) in batch.drain(..).zip(outcomes) {
                if outcome.is_ok() {
                    recent.committed(&request.op);
                }
                let _ = request.reply.send(outcome);
            }
        }
        Err(e) => {
            tracing::error!(target: "qtm::store::sqlite", %e, size = batch.len(), "group commit failed");
            rollback(conn).await;
            for request in batch.drain(..) {
                let _ = request.reply.send(Err(e.clone()));
            }
        }
    }
    1
}

/// One transaction per request; returns how many.
async fn replay_one_by_one(
    conn: &mut SqliteConnection,
    batch: &mut Vec<Request>,
    recent: &Recent,
) -> u64 {
    let count = batch.len() as u64;
    for request in batch.drain(..) {
        let outcome = commit_one(conn, &request.op, recent).await;
        let _ = request.reply.send(outcome);
    }
    count
}

async fn commit_one(
    conn: &mut SqliteConnection,
    op: &WriteOp,
    recent: &Recent,
) -> Result<WriteOutcome, StoreError> {
    exec(conn, "BEGIN IMMEDIATE", StoreOp::Commit).await?;
    let outcome = match apply(conn, op).await {
        Ok(outcome) => outcome,
        Err(ApplyError::Conflict(e) | ApplyError::Statement(e)) => {
            rollback(conn).await;
            return Err(e);
        }
    };
    let _order = recent.commit_order.lock().await;
    match exec(conn, "COMMIT", StoreOp::Commit).await {
        Ok(()) => {
            recent.committed(op);
            Ok(outcome)
        }
        Err(e) => {
            rollback(conn).await;
            Err(e)
        }
    }
}
