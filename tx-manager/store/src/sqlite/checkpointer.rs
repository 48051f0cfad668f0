//! Background WAL checkpoints. The writer connection runs with `wal_autocheckpoint=0`, so a
//! checkpoint (copying WAL pages into the database file and fsyncing it) never stalls a group
//! commit. This task runs a PASSIVE checkpoint (which never blocks the writer or readers) every
//! [`INTERVAL`]; only if the WAL still grows past [`WAL_LIMIT_PAGES`] does it run a TRUNCATE
//! checkpoint, which waits for the writer once and shrinks the WAL file back to zero.

use std::time::Duration;

use sqlx::SqliteConnection;
use tokio::sync::oneshot;

/// Time between PASSIVE checkpoints.
pub(crate) const INTERVAL: Duration = Duration::from_millis(200);
/// WAL size (pages) above which a blocking TRUNCATE checkpoint runs (about 256 MiB).
pub(crate) const WAL_LIMIT_PAGES: i64 = 65_536;

/// Stops the checkpointer when dropped (held by every clone of the store).
#[derive(Debug)]
pub(crate) struct CheckpointerGuard {
    _stop: oneshot::Sender<()>,
}

/// Starts the checkpointer on its own connection.
pub(crate) fn spawn(conn: SqliteConnection) -> CheckpointerGuard {
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(run(conn, stopped));
    CheckpointerGuard { _stop: stop }
}

async fn run(mut conn: SqliteConnection, mut stopped: oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = tick.tick() => {}
        }
        match checkpoint(&mut conn, "PRAGMA wal_checkpoint(PASSIVE)").await {
            Ok((_, wal_pages, _)) if wal_pages > WAL_LIMIT_PAGES => {
                tracing::info!(target: "qtm::store::sqlite", wal_pages, "WAL over its limit; truncating checkpoint");
                if let Err(e) = checkpoint(&mut conn, "PRAGMA wal_checkpoint(TRUNCATE)").await {
                    tracing::warn!(target: "qtm::store::sqlite", %e, "truncating WAL checkpoint failed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(target: "qtm::store::sqlite", %e, "WAL checkpoint failed"),
        }
    }
    if let Err(e) = sqlx::Connection::close(conn).await {
        tracing::debug!(target: "qtm::store::sqlite", %e, "closing the checkpointer connection failed");
    }
}

/// Runs a checkpoint pragma: `(busy, wal pages, pages checkpointed)`.
async fn checkpoint(
    conn: &mut SqliteConnection,
    sql: &'static str,
) -> Result<(i64, i64, i64), sqlx::Error> {
    sqlx::query_as(sql).fetch_one(&mut *conn).await
}
