//! The one place where domain errors become JSON-RPC errors, with geth's codes and messages.

use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;

/// geth's code for most server-side failures.
pub const SERVER_ERROR: i32 = -32000;
/// geth's code for `execution reverted`.
pub const EXECUTION_REVERTED: i32 = 3;
/// JSON-RPC invalid params.
pub const INVALID_PARAMS: i32 = -32602;
/// JSON-RPC method not found.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// JSON-RPC internal error.
pub const INTERNAL_ERROR: i32 = -32603;

/// Every error an RPC method can return.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Bad parameters: geth's `invalid argument N: ...`.
    #[error("{0}")]
    InvalidParams(String),
    /// Unknown or disabled method.
    #[error("the method {0} does not exist/is not available")]
    MethodNotFound(String),
    /// The call reverted; `data` is the revert payload.
    #[error("execution reverted")]
    Reverted {
        /// ABI-encoded revert data.
        data: Bytes,
    },
    /// A transaction was refused by the pool or is invalid in this state.
    #[error("{0}")]
    Rejected(String),
    /// The requested block does not exist.
    #[error("header not found")]
    HeaderNotFound,
    /// A storage or internal failure.
    #[error("{0}")]
    Internal(String),
    /// GoQuorum istanbul API's `errUnknownBlock`.
    #[error("unknown block")]
    UnknownBlock,
}

/// Shorthand for method results.
pub type RpcResult<T> = Result<T, RpcError>;

impl RpcError {
    /// `invalid argument N: msg`.
    pub fn arg(index: usize, msg: impl std::fmt::Display) -> Self {
        Self::InvalidParams(format!("invalid argument {index}: {msg}"))
    }
}

/// `Error(string)` reason of revert data, if it is one.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    const SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
    let body = data.strip_prefix(&SELECTOR)?;
    let len_word = body.get(32..64)?;
    let len = usize::try_from(alloy_primitives::U256::from_be_slice(len_word)).ok()?;
    let end = 64usize.checked_add(len)?;
    String::from_utf8(body.get(64..end)?.to_vec()).ok()
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        match e {
            RpcError::InvalidParams(msg) => {
                ErrorObjectOwned::owned(INVALID_PARAMS, msg, None::<()>)
            }
            RpcError::MethodNotFound(_) => {
                ErrorObjectOwned::owned(METHOD_NOT_FOUND, e.to_string(), None::<()>)
            }
            RpcError::Reverted { data } => {
                let message = match revert_reason(&data) {
                    Some(reason) => format!("execution reverted: {reason}"),
                    None => "execution reverted".to_string(),
                };
                let data = (!data.is_empty()).then(|| data.to_string());
                ErrorObjectOwned::owned(EXECUTION_REVERTED, message, data)
            }
            RpcError::Rejected(msg) | RpcError::Internal(msg) => {
                ErrorObjectOwned::owned(SERVER_ERROR, msg, None::<()>)
            }
            RpcError::HeaderNotFound | RpcError::UnknownBlock => {
                ErrorObjectOwned::owned(SERVER_ERROR, e.to_string(), None::<()>)
            }
        }
    }
}

impl From<qrs_chain::ChainError> for RpcError {
    fn from(e: qrs_chain::ChainError) -> Self {
        match e {
            qrs_chain::ChainError::Pool(p) => Self::Rejected(p.to_string()),
            qrs_chain::ChainError::UnknownBlock(_) => Self::HeaderNotFound,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<qrs_consensus::qbft::QbftError> for RpcError {
    fn from(e: qrs_consensus::qbft::QbftError) -> Self {
        use qrs_consensus::qbft::QbftError as Q;
        match e {
            Q::UnknownBlock(_) | Q::UnknownHash(_) => Self::UnknownBlock,
            Q::BadRange(msg) => Self::Rejected(msg.into()),
            Q::Chain(c) => c.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<qrs_consensus::raft::RaftApiError> for RpcError {
    /// `raft_*` failures carry GoQuorum's messages (`no leader is currently elected`, `node not
    /// part of raft cluster. operations not allowed`, ...) with code -32000.
    fn from(e: qrs_consensus::raft::RaftApiError) -> Self {
        Self::Rejected(e.to_string())
    }
}

impl From<qrs_storage::StorageError> for RpcError {
    fn from(e: qrs_storage::StorageError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<qrs_ptm::PtmError> for RpcError {
    /// GoQuorum passes TM failures to the caller as they are (`"<code> status: <body>"`).
    fn from(e: qrs_ptm::PtmError) -> Self {
        Self::Rejected(e.to_string())
    }
}

impl From<qrs_network::NetworkError> for RpcError {
    /// `admin_addPeer` / `admin_removePeer` failures; geth's `node not started` when p2p is off.
    fn from(e: qrs_network::NetworkError) -> Self {
        match e {
            qrs_network::NetworkError::ServiceStopped => Self::Rejected("node not started".into()),
            e @ qrs_network::NetworkError::InvalidEnode { .. } => {
                Self::Rejected(format!("invalid enode: {e}"))
            }
            other => Self::Rejected(other.to_string()),
        }
    }
}

impl From<qrs_keystore::KeystoreError> for RpcError {
    fn from(e: qrs_keystore::KeystoreError) -> Self {
        Self::Rejected(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_reason_decodes_error_string() {
        let data = alloy_primitives::hex::decode(
            "08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000b7265617
36f6e2074657874000000000000000000000000000000000000000000".replace(['\n', ' '], ""),
        )
        .unwrap();
        assert_eq!(revert_reason(&data).as_deref(), Some("reason text"));
        assert_eq!(revert_reason(&[1, 2, 3]), None);
    }
}
