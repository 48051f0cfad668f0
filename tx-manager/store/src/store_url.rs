//! Where the store lives: parses Tessera's JDBC URLs (`jdbc.url` in a Tessera config) and
//! plain `sqlite:` / `postgres:` URLs, and maps them to our two backends.
//!
//! | Input | Backend |
//! |---|---|
//! | `jdbc:h2:/path/db;MODE=Oracle;...`, `jdbc:h2:file:/path/db`, `jdbc:h2:./db`, `jdbc:h2:~/db` | SQLite file `/path/db.sqlite` |
//! | `jdbc:h2:mem:name`, `jdbc:sqlite::memory:`, `sqlite::memory:`, `:memory:` | SQLite in memory |
//! | `jdbc:sqlite:/path/file.db` | SQLite file at exactly that path |
//! | `sqlite:///abs/path.db`, `sqlite://rel/path.db`, `sqlite:path.db` | SQLite file |
//! | `jdbc:postgresql://host:port/db?user=..&password=..&currentSchema=..&sslmode=..` | PostgreSQL |
//! | `postgres://user:pass@host:port/db`, `postgresql://...` | PostgreSQL |
//!
//! Tessera's `jdbc.username` / `jdbc.password` are applied with [`StoreUrl::with_credentials`].

use std::{fmt, path::PathBuf, str::FromStr};

/// Why a store URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreUrlError {
    /// Neither a JDBC URL we map nor a `sqlite:` / `postgres:` URL.
    #[error(
        "unsupported store URL {url:?}: expected jdbc:h2:, jdbc:sqlite:, jdbc:postgresql:, sqlite:, postgres: or :memory:"
    )]
    UnsupportedScheme {
        /// The URL (password redacted).
        url: String,
    },
    /// H2 in server/remote mode (`jdbc:h2:tcp://...`) has no SQLite equivalent.
    #[error(
        "H2 server URL {url:?} is not supported; use an H2 file URL (mapped to SQLite) or PostgreSQL"
    )]
    H2Server {
        /// The URL.
        url: String,
    },
    /// The URL names no database file.
    #[error("store URL {url:?} names no database file")]
    MissingPath {
        /// The URL.
        url: String,
    },
    /// `~` could not be expanded because `HOME` is not set.
    #[error("store URL {url:?} starts with ~ but HOME is not set")]
    NoHome {
        /// The URL.
        url: String,
    },
    /// A PostgreSQL URL that does not parse.
    #[error("invalid PostgreSQL URL {url:?}: {source}")]
    Postgres {
        /// The URL (password redacted).
        url: String,
        /// Parser error.
        source: url::ParseError,
    },
    /// A PostgreSQL URL without a database name.
    #[error("PostgreSQL URL {url:?} names no database")]
    MissingDatabase {
        /// The URL (password redacted).
        url: String,
    },
}

/// A parsed store location.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A SQLite database file (created if missing).
    Sqlite {
        /// Database file path.
        path: PathBuf,
    },
    /// A private in-memory SQLite database (tests); gone when the store is dropped.
    SqliteMemory,
    /// A PostgreSQL database.
    Postgres {
        /// `postgres://[user[:password]@]host[:port]/db[?sslmode=..]`.
        url: url::Url,
        /// Schema to use (`search_path`), from JDBC `currentSchema` or `?currentSchema=`.
        schema: Option<String>,
    },
}

impl StoreUrl {
    /// Parses any supported URL form (see the module docs).
    pub fn parse(input: &str) -> Result<Self, StoreUrlError> {
        let s = input.trim();
        if matches!(
            s,
            ":memory:" | "sqlite::memory:" | "sqlite://:memory:" | "jdbc:sqlite::memory:"
        ) {
            return Ok(StoreUrl::SqliteMemory);
        }
        if let Some(rest) = s.strip_prefix("jdbc:h2:") {
            return parse_h2(s, rest);
        }
        if let Some(rest) = s.strip_prefix("jdbc:sqlite:") {
            return sqlite_path(s, strip_query(rest.strip_prefix("file:").unwrap_or(rest)));
        }
        if let Some(rest) = s.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            return sqlite_path(s, strip_query(rest));
        }
        if let Some(rest) = s.strip_prefix("jdbc:postgresql:") {
            return parse_postgres(&format!("postgres:{rest}"), true);
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return parse_postgres(s, false);
        }
        Err(StoreUrlError::UnsupportedScheme { url: redact_str(s) })
    }

    /// Applies Tessera's `jdbc.username` / `jdbc.password` (PostgreSQL only; ignored for
    /// SQLite, like H2 ignores them for our purposes). Non-empty values override the URL's.
    pub fn with_credentials(mut self, username: Option<&str>, password: Option<&str>) -> Self {
        if let StoreUrl::Postgres { url, .. } = &mut self {
            if let Some(user) = username.filter(|u| !u.is_empty()) {
                // Only fails for URLs that cannot have credentials; ours always can.
                let _ = url.set_username(user);
            }
            if let Some(pass) = password.filter(|p| !p.is_empty()) {
                let _ = url.set_password(Some(pass));
            }
        }
        self
    }

    /// `true` for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, StoreUrl::Postgres { .. })
    }
}

impl FromStr for StoreUrl {
    type Err = StoreUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreUrl::parse(s)
    }
}

/// Shows the location with any password replaced by `***` (safe to log).
impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            StoreUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            StoreUrl::Postgres { url, schema } => {
                write!(f, "{}", redact(url))?;
                if let Some(schema) = schema {
                    write!(f, " (schema {schema})")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

fn strip_query(s: &str) -> &str {
    s.split_once('?').map_or(s, |(path, _)| path)
}

fn parse_h2(full: &str, rest: &str) -> Result<StoreUrl, StoreUrlError> {
    // H2 settings follow the first ';' (e.g. ";MODE=Oracle;TRACE_LEVEL_SYSTEM_OUT=0").
    let location = rest.split(';').next().unwrap_or("");
    if location.starts_with("mem:") {
        return Ok(StoreUrl::SqliteMemory);
    }
    if ["tcp:", "ssl:", "zip:", "split:", "nio", "async:", "retry:"]
        .iter()
        .any(|p| location.starts_with(p))
    {
        return Err(StoreUrlError::H2Server { url: full.to_owned() });
    }
    let location = location.strip_prefix("file:").unwrap_or(location);
    if location.is_empty() {
        return Err(StoreUrlError::MissingPath { url: full.to_owned() });
    }
    sqlite_path(full, &format!("{location}.sqlite"))
}

fn sqlite_path(full: &str, path: &str) -> Result<StoreUrl, StoreUrlError> {
    if path.is_empty() || path.ends_with('/') {
        return Err(StoreUrlError::MissingPath { url: full.to_owned() });
    }
    let path = if let Some(rest) = path.strip_prefix("~/") {
        let home = std::env::var_os("HOME")
            .ok_or_else(|| StoreUrlError::NoHome { url: full.to_owned() })?;
        PathBuf::from(home).join(rest)
    } else {
        PathBuf::from(path)
    };
    Ok(StoreUrl::Sqlite { path })
}

fn parse_postgres(s: &str, jdbc: bool) -> Result<StoreUrl, StoreUrlError> {
    // `jdbc:postgresql:db` and `jdbc:postgresql:/db` mean localhost.
    let normalized = match s.strip_prefix("postgres:") {
        Some(rest) if jdbc && !rest.starts_with("//") => {
            format!("postgres://localhost/{}", rest.trim_start_matches('/'))
        }
        _ => s.to_owned(),
    };
    let mut url = url::Url::parse(&normalized)
        .map_err(|source| StoreUrlError::Postgres { url: redact_str(s), source })?;
    if url.scheme() == "postgresql" {
        // Only fails between special and non-special schemes; both are non-special.
        let _ = url.set_scheme("postgres");
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err(StoreUrlError::MissingDatabase { url: redact(&url) });
    }
    // Move JDBC driver parameters into their libpq places.
    let mut schema = None;
    let mut user = None;
    let mut password = None;
    let mut kept = Vec::new();
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "currentSchema" | "schema" => schema = Some(value.into_owned()),
            "user" => user = Some(value.into_owned()),
            "password" => password = Some(value.into_owned()),
            "ssl" if value == "true" => kept.push(("sslmode".to_owned(), "require".to_owned())),
            "sslmode" | "sslrootcert" | "sslcert" | "sslkey" | "application_name" | "options" => {
                kept.push((key.into_owned(), value.into_owned()))
            }
            other => {
                tracing::debug!(target: "qtm::store", param = other, "ignoring JDBC URL parameter")
            }
        }
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let parsed = StoreUrl::Postgres { url, schema };
    Ok(parsed.with_credentials(user.as_deref(), password.as_deref()))
}

fn redact(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = shown
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "password" { "***".to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

fn redact_str(s: &str) -> String {
    let probe = s.strip_prefix("jdbc:").unwrap_or(s);
    match url::Url::parse(probe) {
        Ok(url)
            if url.password().is_some() || url.query().is_some_and(|q| q.contains("password")) =>
        {
            redact(&url)
        }
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(s: &str) -> PathBuf {
        match StoreUrl::parse(s).unwrap() {
            StoreUrl::Sqlite { path } => path,
            other => panic!("{s} parsed as {other:?}"),
        }
    }

    #[test]
    fn h2_urls_map_to_sqlite_files() {
        assert_eq!(
            path_of("jdbc:h2:/data/tm/db1;MODE=Oracle;TRACE_LEVEL_SYSTEM_OUT=0"),
            PathBuf::from("/data/tm/db1.sqlite")
        );
        assert_eq!(
            path_of("jdbc:h2:file:/qdata/c1/db1;AUTO_SERVER=TRUE"),
            PathBuf::from("/qdata/c1/db1.sqlite")
        );
        assert_eq!(
            path_of("jdbc:h2:./target/h2/tessera1"),
            PathBuf::from("./target/h2/tessera1.sqlite")
        );
        assert!(matches!(
            StoreUrl::parse("jdbc:h2:mem:tessera;DB_CLOSE_DELAY=-1"),
            Ok(StoreUrl::SqliteMemory)
        ));
        assert!(matches!(
            StoreUrl::parse("jdbc:h2:tcp://localhost/~/test"),
            Err(StoreUrlError::H2Server { .. })
        ));
        assert!(matches!(
            StoreUrl::parse("jdbc:h2:;MODE=Oracle"),
            Err(StoreUrlError::MissingPath { .. })
        ));
    }

    #[test]
    fn h2_home_relative_path_expands() {
        let Some(home) = std::env::var_os("HOME") else { return };
        assert_eq!(path_of("jdbc:h2:~/tm/db"), PathBuf::from(home).join("tm/db.sqlite"));
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(path_of("jdbc:sqlite:/tmp/tessera.db"), PathBuf::from("/tmp/tessera.db"));
        assert_eq!(
            path_of("sqlite:///var/qtm/store.db?mode=rwc"),
            PathBuf::from("/var/qtm/store.db")
        );
        assert_eq!(path_of("sqlite://rel/store.db"), PathBuf::from("rel/store.db"));
        assert_eq!(path_of("sqlite:store.db"), PathBuf::from("store.db"));
        for memory in [":memory:", "sqlite::memory:", "jdbc:sqlite::memory:", " :memory: "] {
            assert_eq!(StoreUrl::parse(memory), Ok(StoreUrl::SqliteMemory), "{memory}");
        }
        assert!(matches!(StoreUrl::parse("jdbc:sqlite:"), Err(StoreUrlError::MissingPath { .. })));
    }

    #[test]
    fn jdbc_postgres_with_config_credentials() {
        let url = StoreUrl::parse(
            "jdbc:postgresql://db.example:6432/tessera?currentSchema=tm1&ssl=true&loggerLevel=OFF",
        )
        .unwrap()
        .with_credentials(Some("tessera"), Some("s3cr:t@"));
        let StoreUrl::Postgres { url: pg, schema } = &url else { panic!("not postgres: {url:?}") };
        assert_eq!(pg.host_str(), Some("db.example"));
        assert_eq!(pg.port(), Some(6432));
        assert_eq!(pg.path(), "/tessera");
        assert_eq!(pg.username(), "tessera");
        assert_eq!(pg.password(), Some("s3cr%3At%40"));
        assert_eq!(pg.query(), Some("sslmode=require"));
        assert_eq!(schema.as_deref(), Some("tm1"));
        let shown = url.to_string();
        assert!(!shown.contains("s3cr"), "password leaked into Display: {shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn jdbc_postgres_credentials_in_query_and_short_forms() {
        let url =
            StoreUrl::parse("jdbc:postgresql://localhost/test?user=postgres&password=pw").unwrap();
        let StoreUrl::Postgres { url: pg, .. } = &url else { panic!() };
        assert_eq!((pg.username(), pg.password(), pg.query()), ("postgres", Some("pw"), None));
        // Config credentials win over URL ones; empty config values do not.
        let url = url.with_credentials(Some("other"), Some(""));
        let StoreUrl::Postgres { url: pg, .. } = &url else { panic!() };
        assert_eq!((pg.username(), pg.password()), ("other", Some("pw")));

        let StoreUrl::Postgres { url: pg, .. } =
            StoreUrl::parse("jdbc:postgresql:tessera").unwrap()
        else {
            panic!()
        };
        assert_eq!((pg.host_str(), pg.path()), (Some("localhost"), "/tessera"));
        let StoreUrl::Postgres { url: pg, .. } =
            StoreUrl::parse("postgresql://u@h:5433/d").unwrap()
        else {
            panic!()
        };
        assert_eq!((pg.scheme(), pg.port()), ("postgres", Some(5433)));
        assert!(matches!(
            StoreUrl::parse("postgres://host:5432/"),
            Err(StoreUrlError::MissingDatabase { .. })
        ));
    }

    #[test]
    fn unsupported_urls_are_refused_without_leaking_passwords() {
        for bad in ["jdbc:mysql://h/db", "mongodb://u:pw@h/db", "/plain/path", ""] {
            let err = StoreUrl::parse(bad).unwrap_err();
            assert!(matches!(err, StoreUrlError::UnsupportedScheme { .. }), "{bad}: {err}");
        }
        let err = StoreUrl::parse("mongodb://u:hunter2@h/db").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
