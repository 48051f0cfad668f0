//! qnet's library error.

use std::path::PathBuf;

/// Why a network could not be planned or generated.
#[derive(Debug, thiserror::Error)]
pub enum QnetError {
    /// A command-line option is out of range or inconsistent.
    #[error("{0}")]
    InvalidOption(String),
    /// The target directory already holds files.
    #[error("{} is not empty: pass --force to overwrite it", .0.display())]
    DirNotEmpty(PathBuf),
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The serde error.
        source: serde_json::Error,
    },
    /// A node key could not be written or read.
    #[error("node key: {0}")]
    NodeKey(#[from] qrs_network::NetworkError),
    /// An account key file could not be written or read.
    #[error("account keystore: {0}")]
    Keystore(#[from] qrs_keystore::KeystoreError),
    /// A Tessera key pair could not be generated or read.
    #[error("transaction manager keys: {0}")]
    TmKeys(#[from] qrs_enclave::keys::KeyError),
    /// The generated genesis does not load.
    #[error("generated genesis is invalid: {0}")]
    Genesis(#[from] qrs_chainspec::ChainSpecError),
    /// `qnode init` on a node's data directory failed.
    #[error("initialising the data directory {}: {message}", datadir.display())]
    InitDatadir {
        /// The data directory.
        datadir: PathBuf,
        /// The underlying report, rendered.
        message: String,
    },
    /// `network.json` does not parse.
    #[error("{} is not a valid qnet network.json ({source}): regenerate the network with `qnet init --force`", path.display())]
    BadNetworkJson {
        /// The file.
        path: PathBuf,
        /// The serde error.
        source: serde_json::Error,
    },
    /// The directory holds files but no `network.json`.
    #[error("{} is not a qnet network (no network.json) and not empty: pass an empty or new directory", .0.display())]
    NotANetwork(PathBuf),
    /// `qnet add-node`: the directory holds no `network.json`.
    #[error("{} holds no network.json: create and start a network there first (`qnet up --dir {}`)", .0.display(), .0.display())]
    NoNetwork(PathBuf),
    /// `qnet add-node`: the network (or part of it) is not running.
    #[error("{0}")]
    NotRunning(String),
    /// A binary qnet runs was not found.
    #[error(
        "the {name} binary was not found (looked in {searched}): build it with `cargo build --release -p {package}` or pass --bin-dir"
    )]
    MissingBinary {
        /// `qnode` or `qtm`.
        name: &'static str,
        /// The cargo package that builds it.
        package: &'static str,
        /// Where qnet looked, rendered.
        searched: String,
    },
    /// A port the network needs is taken.
    #[error(
        "port {port} ({what}) is already in use: stop whatever listens on it, or generate the network on other ports (--base-port)"
    )]
    PortInUse {
        /// The port.
        port: u16,
        /// Which server needs it, e.g. `member1 RPC`.
        what: String,
    },
    /// A child process could not be started or signalled.
    #[error("{what}: {source}")]
    Process {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The network did not become healthy (the report names every unhealthy node).
    #[error("{0}")]
    Unhealthy(String),
    /// SIGINT/SIGTERM arrived while starting.
    #[error("interrupted: stopped what this run had started")]
    Interrupted,
}

impl QnetError {
    /// Wraps an IO error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}
