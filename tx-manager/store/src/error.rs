//! Store errors. The one rule that matters to callers: a missing row is `Ok(None)` /
//! `Ok(false)`, never an error, and every error here is *not* "not found". qtm must answer
//! 404 only for `Ok(None)` and a 5xx for [`StoreError::Unavailable`] (see
//! [`StoreError::is_transient`]).

use std::{fmt, path::PathBuf, sync::Arc};

use crate::{model::B64, store_url::StoreUrlError};

/// Which database engine an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// The store operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum StoreOp {
    Open,
    Migrate,
    Save,
    SaveBatch,
    SaveIfUnchanged,
    Find,
    Delete,
    FindByRecipient,
    SaveRaw,
    FindRaw,
    DeleteRaw,
    Count,
    Upcheck,
    Commit,
    SavePrivacyGroup,
    FindPrivacyGroup,
}

impl fmt::Display for StoreOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            StoreOp::Open => "open",
            StoreOp::Migrate => "migrate",
            StoreOp::Save => "save",
            StoreOp::SaveBatch => "save_batch",
            StoreOp::SaveIfUnchanged => "save_if_unchanged",
            StoreOp::Find => "find",
            StoreOp::Delete => "delete",
            StoreOp::FindByRecipient => "find_by_recipient",
            StoreOp::SaveRaw => "save_raw",
            StoreOp::FindRaw => "find_raw",
            StoreOp::DeleteRaw => "delete_raw",
            StoreOp::Count => "count",
            StoreOp::Upcheck => "upcheck",
            StoreOp::Commit => "commit",
            StoreOp::SavePrivacyGroup => "save_privacy_group",
            StoreOp::FindPrivacyGroup => "find_privacy_group",
        };
        f.write_str(name)
    }
}

/// Why the store could not be reached or could not complete an operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Cause {
    /// A database driver error (connection, I/O, lock timeout, server shutdown, ...).
    #[error(transparent)]
    Database(Arc<sqlx::Error>),
    /// The SQLite group-commit writer task is gone (store shutting down or crashed).
    #[error("the SQLite writer task has stopped")]
    WriterStopped,
    /// Preparing the database file failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// Path involved.
        path: PathBuf,
        /// The I/O error.
        source: Arc<std::io::Error>,
    },
}

/// What is wrong with stored data.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CorruptDetail {
    /// A column has a length the schema does not allow.
    #[error("column {column} has {len} bytes")]
    BadLength {
        /// Column name.
        column: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// `payload_codec` holds an unknown tag.
    #[error("unknown payload codec {tag:?}")]
    UnknownCodec {
        /// The tag found.
        tag: String,
    },
    /// A count came back negative.
    #[error("negative row count {0}")]
    NegativeCount(i64),
    /// A column could not be decoded.
    #[error("undecodable column: {0}")]
    Decode(Arc<sqlx::Error>),
    /// The database file itself is damaged (SQLITE_CORRUPT / SQLITE_NOTADB).
    #[error("damaged database: {0}")]
    Damaged(Arc<sqlx::Error>),
}

/// Why a schema migration failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MigrationError {
    /// A migration script failed.
    #[error("migration {version} ({name}) failed: {source}")]
    Script {
        /// Migration version.
        version: i64,
        /// Migration name.
        name: &'static str,
        /// Driver error.
        source: Arc<sqlx::Error>,
    },
    /// Reading or locking the schema version table failed.
    #[error("cannot read or lock the schema version: {0}")]
    Version(Arc<sqlx::Error>),
    /// The database was migrated by a newer qtm.
    #[error("schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// An applied migration differs from the one compiled in.
    #[error("applied migration {version} differs from this build's script (checksum mismatch)")]
    Checksum {
        /// Migration version.
        version: i64,
    },
}

/// Every failure of the payload store. None of these means "not found".
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database is unreachable or failed transiently (connection, I/O, busy, shutdown).
    /// qtm maps this to a 5xx, never to 404.
    #[error("payload store unavailable ({backend} {op}): {cause}")]
    Unavailable {
        /// Backend.
        backend: Backend,
        /// Operation.
        op: StoreOp,
        /// Cause.
        #[source]
        cause: Cause,
    },
    /// A conditional write lost a race: the row changed (or appeared) since the caller read it.
    #[error("conflicting write to payload {} during {op}", B64(hash))]
    Conflict {
        /// Operation.
        op: StoreOp,
        /// The payload hash.
        hash: [u8; 64],
    },
    /// Stored data violates the schema's invariants.
    #[error("corrupt data in {backend} table {table}: {detail}")]
    Corrupt {
        /// Backend.
        backend: Backend,
        /// Table.
        table: &'static str,
        /// What is wrong.
        #[source]
        detail: CorruptDetail,
    },
    /// The database rejected a row (constraint violation, e.g. an empty payload).
    #[error("{backend} rejected a row during {op}: {source}")]
    Rejected {
        /// Backend.
        backend: Backend,
        /// Operation.
        op: StoreOp,
        /// Driver error.
        #[source]
        source: Arc<sqlx::Error>,
    },
    /// Schema migration failed at open.
    #[error("schema migration of {backend} store failed: {detail}")]
    Migration {
        /// Backend.
        backend: Backend,
        /// What failed.
        #[source]
        detail: MigrationError,
    },
    /// The store URL could not be understood.
    #[error(transparent)]
    Url(#[from] StoreUrlError),
}

impl StoreError {
    /// True when retrying later may succeed (the store is unavailable or a conditional write
    /// lost a race). qtm answers these with 5xx / retries, never with 404.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. } | StoreError::Conflict { .. })
    }

    /// Classifies a driver error from `op`.
    pub(crate) fn from_sqlx(
        backend: Backend,
        op: StoreOp,
        table: &'static str,
        e: sqlx::Error,
    ) -> Self {
        use sqlx::Error as E;
        match e {
            E::Database(ref db) => match classify_db_error(backend, db.as_ref()) {
                DbErrorClass::Constraint => {
                    StoreError::Rejected { backend, op, source: Arc::new(e) }
                }
                DbErrorClass::Damaged => StoreError::Corrupt {
                    backend,
                    table,
                    detail: CorruptDetail::Damaged(Arc::new(e)),
                },
                DbErrorClass::Transient => {
                    StoreError::Unavailable { backend, op, cause: Cause::Database(Arc::new(e)) }
                }
            },
            E::ColumnDecode { .. }
            | E::Decode(_)
            | E::ColumnNotFound(_)
            | E::ColumnIndexOutOfBounds { .. } => {
                StoreError::Corrupt { backend, table, detail: CorruptDetail::Decode(Arc::new(e)) }
            }
            // Io, Tls, Protocol, PoolTimedOut, PoolClosed, WorkerCrashed, Configuration and
            // anything new: the store cannot answer, which must never look like "not found".
            other => {
                StoreError::Unavailable { backend, op, cause: Cause::Database(Arc::new(other)) }
            }
        }
    }
}

enum DbErrorClass {
    Constraint,
    Damaged,
    Transient,
}

fn classify_db_error(backend: Backend, db: &dyn sqlx::error::DatabaseError) -> DbErrorClass {
    use sqlx::error::ErrorKind;
    match db.kind() {
        ErrorKind::UniqueViolation
        | ErrorKind::ForeignKeyViolation
        | ErrorKind::NotNullViolation
        | ErrorKind::CheckViolation => return DbErrorClass::Constraint,
        _ => {}
    }
    let code = db.code();
    let code = code.as_deref().unwrap_or("");
    match backend {
        // SQLite primary result codes (extended codes keep the primary code in the low byte).
        Backend::Sqlite => match code.parse::<i32>().map(|c| c & 0xff) {
            Ok(19) => DbErrorClass::Constraint,   // SQLITE_CONSTRAINT
            Ok(11 | 26) => DbErrorClass::Damaged, // SQLITE_CORRUPT, SQLITE_NOTADB
            _ => DbErrorClass::Transient,
        },
        // SQLSTATE class 23 = integrity constraint violation, XX001/XX002 = data corrupted.
        Backend::Postgres if code.starts_with("23") => DbErrorClass::Constraint,
        Backend::Postgres if code == "XX001" || code == "XX002" => DbErrorClass::Damaged,
        Backend::Postgres => DbErrorClass::Transient,
    }
}
