//! PTM client errors.

/// A call to the transaction manager failed.
#[derive(Debug, thiserror::Error)]
pub enum PtmError {
    /// The configuration is unusable (bad URL, unreadable TOML, missing TLS file).
    #[error("invalid transaction manager configuration: {0}")]
    Config(String),
    /// The TM could not be reached (connect, reset, timeout).
    #[error("transaction manager at {endpoint} is unreachable: {reason}")]
    Unreachable {
        /// URL or socket path.
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// The TM answered with an unexpected status. The message is GoQuorum's
    /// `"<code> status: <body>"`, which it passes on to JSON-RPC callers.
    #[error("{status} status: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Response body (truncated).
        body: String,
    },
    /// The TM's answer could not be understood.
    #[error("invalid answer from the transaction manager to {call}: {reason}")]
    Protocol {
        /// The call (`/send`, ...).
        call: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// `/upcheck` did not answer 200 at start-up.
    #[error("transaction manager is not up: {0}")]
    NotUp(String),
}

impl PtmError {
    /// Whether the failure is worth retrying (transport trouble or a 5xx), as opposed to a
    /// definite answer.
    pub fn is_transient(&self) -> bool {
        match self {
            PtmError::Unreachable { .. } => true,
            PtmError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
