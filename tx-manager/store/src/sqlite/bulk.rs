//! Multi-row statements for group commit. Every statement is a round trip to sqlx's SQLite
//! worker thread, so a batch of N saves is written with a handful of multi-row `INSERT`s
//! instead of N × (1 + recipients) single-row ones.

use std::{
    collections::{HashMap, HashSet},
    sync::OnceLock,
};

use sqlx::SqliteConnection;

use crate::{
    error::{Backend, StoreError, StoreOp},
    model::{PublicKey, StoredPayload},
    rows::{PAYLOAD_TABLE, RECIPIENT_TABLE, concat_keys, unique_recipients},
    sqlite::write_ops::{ApplyError, upsert_payload},
};

/// Payload rows per `INSERT` (6 parameters each).
pub(crate) const ROWS_PER_INSERT: usize = 64;
/// Recipient index rows per `INSERT` (2 parameters each).
pub(crate) const PAIRS_PER_INSERT: usize = 128;

fn values_sql(prefix: &str, row: &str, n: usize, suffix: &str) -> String {
    let mut sql = String::with_capacity(prefix.len() + n * (row.len() + 1) + suffix.len());
    sql.push_str(prefix);
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql.push_str(suffix);
    sql
}

/// `INSERT` of `n` payload rows (1 ≤ n ≤ [`ROWS_PER_INSERT`]) returning the hashes and ids inserted.
fn payload_insert_sql(n: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let all = SQL.get_or_init(|| {
        (1..=ROWS_PER_INSERT)
            .map(|n| {
                values_sql(
                    "INSERT INTO qtm_payload (hash, encoded_payload, payload_codec, recipients, sender, timestamp) VALUES ",
                    "(?, ?, ?, ?, ?, ?)",
                    n,
                    " ON CONFLICT (hash) DO NOTHING RETURNING hash, id",
                )
            })
            .collect()
    });
    all.get(n.clamp(1, ROWS_PER_INSERT) - 1).map_or("", String::as_str)
}

/// `INSERT` of `n` recipient index rows (1 ≤ n ≤ [`PAIRS_PER_INSERT`]).
fn pairs_insert_sql(n: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let all = SQL.get_or_init(|| {
        (1..=PAIRS_PER_INSERT)
            .map(|n| {
                values_sql(
                    "INSERT INTO qtm_payload_recipient (recipient, payload_id) VALUES ",
                    "(?, ?)",
                    n,
                    " ON CONFLICT DO NOTHING",
                )
            })
            .collect()
    });
    all.get(n.clamp(1, PAIRS_PER_INSERT) - 1).map_or("", String::as_str)
}

fn stmt(op: StoreOp, table: &'static str) -> impl Fn(sqlx::Error) -> ApplyError {
    move |e| ApplyError::Statement(StoreError::from_sqlx(Backend::Sqlite, op, table, e))
}

/// Adds recipient index rows.
pub(crate) async fn insert_recipient_pairs(
    conn: &mut SqliteConnection,
    pairs: &[(PublicKey, i64)],
    op: StoreOp,
) -> Result<(), ApplyError> {
    for chunk in pairs.chunks(PAIRS_PER_INSERT) {
        let mut query = sqlx::query(pairs_insert_sql(chunk.len()));
        for (key, id) in chunk {
            query = query.bind(&key[..]).bind(*id);
        }
        query.execute(&mut *conn).await.map_err(stmt(op, RECIPIENT_TABLE))?;
    }
    Ok(())
}

/// One save in a run: a plain save (insert or replace), or an insert-only save
/// (`save_if_unchanged(p, None)`) that must not replace an existing row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunItem<'a> {
    pub(crate) payload: &'a StoredPayload,
    /// `Some(tag)`: insert only; if the hash exists (or an earlier item of the run took it),
    /// nothing is written and `tag` is reported back as conflicted.
    pub(crate) insert_only: Option<usize>,
}

/// Saves a run of plain saves (in order, later saves of a hash winning).
pub(crate) async fn save_run(
    conn: &mut SqliteConnection,
    run: &[&StoredPayload],
    op: StoreOp,
) -> Result<(), ApplyError> {
    let items: Vec<RunItem<'_>> =
        run.iter().map(|payload| RunItem { payload, insert_only: None }).collect();
    save_items(conn, &items, op).await.map(|_| ())
}

/// Saves a run with multi-row inserts. New rows take the bulk path; plain saves of rows that
/// already exist are replaced one by one afterwards, in their original order. Returns the tags
/// of insert-only items that found their hash taken.
pub(crate) async fn save_items(
    conn: &mut SqliteConnection,
    run: &[RunItem<'_>],
    op: StoreOp,
) -> Result<Vec<usize>, ApplyError> {
    let mut pairs = Vec::new();
    let mut replaced = Vec::new();
    let mut conflicted = Vec::new();
    for chunk in run.chunks(ROWS_PER_INSERT) {
        let unique: Vec<Vec<PublicKey>> =
            chunk.iter().map(|item| unique_recipients(&item.payload.recipients)).collect();
        let mut query = sqlx::query_as::<_, (Vec<u8>, i64)>(payload_insert_sql(chunk.len()));
        for (item, recipients) in chunk.iter().zip(&unique) {
            let p = item.payload;
            query = query
                .bind(&p.hash[..])
                .bind(&p.encoded_payload)
                .bind(p.codec.as_str())
                .bind(concat_keys(recipients))
                .bind(&p.sender[..])
                .bind(p.timestamp);
        }
        let inserted: HashMap<Vec<u8>, i64> = query
            .fetch_all(&mut *conn)
            .await
            .map_err(stmt(op, PAYLOAD_TABLE))?
            .into_iter()
            .collect();
        // Of several rows with one new hash, the first was inserted; later plain saves replace
        // it, later insert-only saves conflict.
        let mut claimed: HashSet<&[u8]> = HashSet::new();
        for (item, recipients) in chunk.iter().zip(unique) {
            let hash = &item.payload.hash[..];
            match (inserted.get(hash), item.insert_only) {
                (Some(&id), _) if claimed.insert(hash) => {
                    pairs.extend(recipients.into_iter().map(|key| (key, id)));
                }
                (_, Some(tag)) => conflicted.push(tag),
                (_, None) => replaced.push(item.payload),
            }
        }
    }
    insert_recipient_pairs(conn, &pairs, op).await?;
    for p in replaced {
        upsert_payload(conn, p, op).await?;
    }
    Ok(conflicted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sql_has_one_placeholder_group_per_row() {
        assert_eq!(payload_insert_sql(1).matches("(?, ?, ?, ?, ?, ?)").count(), 1);
        assert_eq!(payload_insert_sql(ROWS_PER_INSERT).matches('?').count(), 6 * ROWS_PER_INSERT);
        assert_eq!(pairs_insert_sql(3).matches("(?, ?)").count(), 3);
        assert_eq!(pairs_insert_sql(PAIRS_PER_INSERT).matches('?').count(), 2 * PAIRS_PER_INSERT);
        // Out-of-range sizes are clamped, never a panic.
        assert_eq!(payload_insert_sql(0), payload_insert_sql(1));
        assert_eq!(pairs_insert_sql(10_000), pairs_insert_sql(PAIRS_PER_INSERT));
    }
}
