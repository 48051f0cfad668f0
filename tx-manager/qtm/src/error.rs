//! The HTTP error model: every failure becomes a status code and a `text/plain` reason, as
//! Tessera's exception mappers do.
//!
//! The rule that matters most: 404 means "definitely not here". A store or enclave that cannot
//! answer is a 5xx, because GoQuorum treats 404 on receive as "not a party".

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use qrs_enclave::{EnclaveError, MessageHash, PublicKey};
use qrs_tm_store::StoreError;
use thiserror::Error;

use crate::media::TEXT;

/// Every error an API handler can return.
#[derive(Debug, Error)]
pub enum ApiError {
    /// Malformed input (bad JSON, bad base64, wrong sizes, bad headers...).
    #[error("{0}")]
    BadRequest(String),
    /// The request body's media type is not accepted by this endpoint.
    #[error("Unsupported Content-Type {got:?}; expected one of: {expected}")]
    UnsupportedMediaType {
        /// The content type received (empty if absent).
        got: String,
        /// The accepted types.
        expected: &'static str,
    },
    /// No acceptable response media type.
    #[error("Not acceptable; this endpoint produces: {0}")]
    NotAcceptable(&'static str),
    /// No transaction with this hash is stored here.
    #[error("Message with hash {0} was not found")]
    TransactionNotFound(MessageHash),
    /// No raw transaction with this hash is stored here.
    #[error("Raw message with hash {0} was not found")]
    RawTransactionNotFound(MessageHash),
    /// No node is known for a recipient key, even after refreshing party info.
    #[error("Recipient not found for key: {0}")]
    RecipientNotFound(PublicKey),
    /// A key that should be local is not.
    #[error("Key {0} not found in the local enclave")]
    KeyNotFound(PublicKey),
    /// The payload is not addressed to any local key (or to the requested key).
    #[error("No local key can decrypt message {0}")]
    NotARecipient(MessageHash),
    /// The privacy group does not exist (qtm stores no privacy groups).
    #[error("Privacy group not found")]
    PrivacyGroupNotFound,
    /// A privacy rule rejected the request.
    #[error("{0}")]
    PrivacyViolation(String),
    /// The requested feature is switched off or not supported.
    #[error("{0}")]
    NotSupported(String),
    /// A recipient's node could not be reached; nothing was stored.
    #[error("Node offline: {url} (recipient {key}) could not be reached: {reason}")]
    NodeOffline {
        /// The node URL.
        url: String,
        /// The recipient key routed there.
        key: PublicKey,
        /// The transport error.
        reason: String,
    },
    /// A recipient's node answered with an error; nothing was stored.
    #[error("Push to {url} (recipient {key}) failed with status {status}: {body}")]
    PushRejected {
        /// The node URL.
        url: String,
        /// The recipient key routed there.
        key: PublicKey,
        /// The status returned.
        status: u16,
        /// The body returned.
        body: String,
    },
    /// An incoming payload conflicts with the stored one of the same hash.
    #[error("Invalid existing transaction {0}: immutable fields differ")]
    ConflictingPayload(MessageHash),
    /// The payload store failed.
    #[error("Payload store error: {0}")]
    Store(#[from] StoreError),
    /// The enclave failed.
    #[error("Enclave error: {0}")]
    Enclave(EnclaveError),
    /// Anything else.
    #[error("Internal error: {0}")]
    Internal(String),
}

impl From<EnclaveError> for ApiError {
    fn from(e: EnclaveError) -> Self {
        match e {
            EnclaveError::UnknownKey(key) => Self::KeyNotFound(key),
            EnclaveError::UnknownPrivacyFlag(flag) => Self::BadRequest(format!(
                "Unknown privacy flag {flag}; valid flags are 0, 1, 2 and 3"
            )),
            EnclaveError::InvalidMetadata(reason) => {
                Self::BadRequest(format!("Invalid privacy metadata: {reason}"))
            }
            EnclaveError::Codec(e) => Self::BadRequest(format!("Invalid encoded payload: {e}")),
            EnclaveError::InvalidKeyLength { .. } => Self::BadRequest(e.to_string()),
            other => Self::Enclave(other),
        }
    }
}

impl ApiError {
    /// Shorthand for [`ApiError::BadRequest`].
    pub fn bad(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::TransactionNotFound(_)
            | Self::RawTransactionNotFound(_)
            | Self::RecipientNotFound(_)
            | Self::KeyNotFound(_)
            | Self::NotARecipient(_)
            | Self::PrivacyGroupNotFound => StatusCode::NOT_FOUND,
            Self::PrivacyViolation(_) | Self::NotSupported(_) => StatusCode::FORBIDDEN,
            Self::NodeOffline { .. } => StatusCode::GONE,
            Self::PushRejected { .. } => StatusCode::BAD_GATEWAY,
            Self::ConflictingPayload(_) => StatusCode::CONFLICT,
            Self::Store(e) if e.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Enclave(
                EnclaveError::RemoteUnavailable { .. }
                | EnclaveError::Remote { .. }
                | EnclaveError::RemoteProtocol { .. },
            ) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Enclave(EnclaveError::NotARecipient(_)) => StatusCode::NOT_FOUND,
            Self::Enclave(EnclaveError::DecryptionFailed) => StatusCode::BAD_REQUEST,
            Self::Enclave(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(target: "qtm::api", %status, error = %self, "request failed");
        } else {
            tracing::debug!(target: "qtm::api", %status, error = %self, "request rejected");
        }
        (status, [(header::CONTENT_TYPE, TEXT)], self.to_string()).into_response()
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
