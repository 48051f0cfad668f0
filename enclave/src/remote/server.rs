//! The enclave REST API server (Tessera's `EnclaveResource`) over any [`Enclave`].

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::wire::{
    self, EnclavePayload, EnclaveRawPayload, EnclaveUnencryptPayload,
    FindInvalidSecurityHashesRequest, FindInvalidSecurityHashesResponse,
};
use super::{ERROR_KEY_HEADER, ERROR_KIND_HEADER};
use crate::enclave::{Enclave, EnclaveStatus};
use crate::error::EnclaveError;
use crate::payload::EncodedPayload;
use crate::types::PublicKey;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

type Shared = Arc<dyn Enclave>;

/// An [`EnclaveError`] as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub EnclaveError);

impl From<EnclaveError> for ApiError {
    fn from(error: EnclaveError) -> Self {
        Self(error)
    }
}

/// The error kind name and key carried in the extension headers.
pub fn error_kind(error: &EnclaveError) -> (&'static str, Option<PublicKey>) {
    match error {
        EnclaveError::UnknownKey(key) => ("unknown-key", Some(*key)),
        EnclaveError::NotARecipient(key) => ("not-a-recipient", Some(*key)),
        EnclaveError::WeakKey(key) => ("weak-key", Some(*key)),
        EnclaveError::DecryptionFailed => ("decryption-failed", None),
        EnclaveError::NoKeys => ("no-keys", None),
        _ => ("other", None),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            EnclaveError::UnknownKey(_) | EnclaveError::NotARecipient(_) => StatusCode::NOT_FOUND,
            EnclaveError::Codec(_)
            | EnclaveError::InvalidMetadata(_)
            | EnclaveError::InvalidKeyLength { .. }
            | EnclaveError::UnknownPrivacyFlag(_)
            | EnclaveError::WeakKey(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let (kind, key) = error_kind(&self.0);
        tracing::debug!(target: "enclave::server", error = %self.0, "request failed");
        let mut response = (status, self.0.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(ERROR_KIND_HEADER, HeaderValue::from_static(kind));
        if let Some(value) = key.and_then(|k| HeaderValue::from_str(&k.to_base64()).ok()) {
            headers.insert(ERROR_KEY_HEADER, value);
        }
        response
    }
}

/// A JSON body that failed to parse becomes a 400 with the reason.
fn bad_json(rejection: axum::extract::rejection::JsonRejection) -> Response {
    (StatusCode::BAD_REQUEST, rejection.body_text()).into_response()
}

fn octets(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
}

/// The routes of Tessera's enclave API.
pub fn router(enclave: Shared) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/default", get(default_key))
        .route("/forwarding", get(forwarding))
        .route("/public", get(public))
        .route("/encrypt", post(encrypt))
        .route("/encrypt/raw", post(encrypt_raw))
        .route("/encrypt/toraw", post(encrypt_to_raw))
        .route("/findinvalidsecurityhashes", post(find_invalid))
        .route("/unencrypt", post(unencrypt))
        .route("/unencrypt/raw", post(unencrypt_raw))
        .route("/addRecipient", post(add_recipient))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(enclave)
}

async fn ping(State(enclave): State<Shared>) -> Response {
    match enclave.status().await {
        Ok(EnclaveStatus::Started) => (StatusCode::OK, "STARTED").into_response(),
        Ok(other) => (StatusCode::SERVICE_UNAVAILABLE, other.name()).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

async fn default_key(State(enclave): State<Shared>) -> Result<Response, ApiError> {
    Ok(octets(enclave.default_public_key().await?.0.to_vec()))
}

async fn forwarding(State(enclave): State<Shared>) -> Result<Json<Vec<PublicKey>>, ApiError> {
    Ok(Json(enclave.forwarding_keys().await?))
}

async fn public(State(enclave): State<Shared>) -> Result<Json<Vec<PublicKey>>, ApiError> {
    Ok(Json(enclave.public_keys().await?))
}

/// A JSON request body; one that fails to parse is refused with a 400 and the reason.
struct Body<T>(T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        Json::<T>::from_request(req, state).await.map(|Json(t)| Body(t)).map_err(bad_json)
    }
}

async fn encrypt(
    State(enclave): State<Shared>,
    Body(request): Body<EnclavePayload>,
) -> Result<Response, ApiError> {
    let (recipients, meta) = request.meta.into_meta()?;
    let payload =
        enclave.encrypt_payload(&request.data, request.sender_key, &recipients, &meta).await?;
    Ok(octets(payload.encode_legacy()))
}

async fn encrypt_raw(
    State(enclave): State<Shared>,
    Body(request): Body<EnclaveRawPayload>,
) -> Result<Response, ApiError> {
    let (raw, meta) = request.into_raw();
    let (recipients, meta) = meta.into_meta()?;
    let payload = enclave.encrypt_payload_from_raw(&raw, &recipients, &meta).await?;
    Ok(octets(payload.encode_legacy()))
}

async fn encrypt_to_raw(
    State(enclave): State<Shared>,
    Body(request): Body<EnclavePayload>,
) -> Result<Response, ApiError> {
    let raw = enclave.encrypt_raw_payload(&request.data, request.sender_key).await?;
    Ok(Json(EnclaveRawPayload::from_raw(&raw, wire::WireMetadata::default())).into_response())
}

async fn find_invalid(
    State(enclave): State<Shared>,
    Body(request): Body<FindInvalidSecurityHashesRequest>,
) -> Result<Response, ApiError> {
    let payload =
        EncodedPayload::decode_legacy(&request.encoded_payload).map_err(EnclaveError::from)?;
    let affected = wire::decode_affected(&request.affected_contract_transactions)?;
    let invalid = enclave.find_invalid_security_hashes(&payload, &affected).await?;
    Ok(Json(FindInvalidSecurityHashesResponse { invalid_security_hashes: invalid }).into_response())
}

async fn unencrypt(
    State(enclave): State<Shared>,
    Body(request): Body<EnclaveUnencryptPayload>,
) -> Result<Response, ApiError> {
    let payload = EncodedPayload::decode_legacy(&request.data).map_err(EnclaveError::from)?;
    let key = match request.provided_key {
        Some(key) => key,
        None => enclave.default_public_key().await?,
    };
    Ok(octets(enclave.unencrypt_transaction(&payload, key).await?))
}

async fn unencrypt_raw(
    State(enclave): State<Shared>,
    Body(request): Body<EnclaveRawPayload>,
) -> Result<Response, ApiError> {
    let (raw, _) = request.into_raw();
    Ok(octets(enclave.unencrypt_raw_payload(&raw).await?))
}

async fn add_recipient(
    State(enclave): State<Shared>,
    Body(request): Body<EnclaveUnencryptPayload>,
) -> Result<Response, ApiError> {
    let payload = EncodedPayload::decode_legacy(&request.data).map_err(EnclaveError::from)?;
    let recipient =
        request.provided_key.ok_or(EnclaveError::InvalidMetadata("providedKey is required"))?;
    Ok(octets(enclave.create_new_recipient_box(&payload, recipient).await?))
}
