//! The HTTP servers: Q2T, P2P and ThirdParty routers with Tessera's paths, media types,
//! headers and status codes, plus helpers shared by their handlers.

pub mod common;
pub mod openapi;
pub mod p2p;
pub mod q2t;
pub mod third_party;

use std::{net::IpAddr, sync::Arc};

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use qrs_enclave::{MessageHash, PublicKey};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    discovery::Discovery,
    error::{ApiError, ApiResult},
    media::{self, JsonFlavor},
    transaction::TxManager,
};

/// Largest request body accepted (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A resident group (`residentGroups[]`), served by `GET /groups/resident`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ResidentGroup {
    /// Group name (its UTF-8 bytes are the group id).
    pub name: String,
    /// Member keys.
    #[serde(default)]
    pub members: Vec<PublicKey>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// Settings the handlers need besides the transaction manager.
#[derive(Debug, Clone, Default)]
pub struct ApiSettings {
    /// Resident groups; `None` when multiple private states are disabled.
    pub resident_groups: Option<Vec<ResidentGroup>>,
    /// Hosts allowed on P2P (`useWhiteList`); `None` allows everyone.
    pub whitelist: Option<Vec<IpAddr>>,
}

/// Shared handler state.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The transaction manager.
    pub tm: Arc<TxManager>,
    /// Discovery.
    pub discovery: Arc<Discovery>,
    /// Other settings.
    pub settings: Arc<ApiSettings>,
}

/// The JSON flavor of a request body; other content types get 415.
pub fn request_flavor(headers: &HeaderMap, expected: &'static str) -> ApiResult<JsonFlavor> {
    let got = media::content_type(headers).unwrap_or_default();
    JsonFlavor::parse(&got).ok_or(ApiError::UnsupportedMediaType { got, expected })
}

/// Requires a specific (non-JSON) content type.
pub fn require_content_type(headers: &HeaderMap, expected: &'static str) -> ApiResult<()> {
    let got = media::content_type(headers).unwrap_or_default();
    if got == expected { Ok(()) } else { Err(ApiError::UnsupportedMediaType { got, expected }) }
}

/// Media types accepted for Q2T JSON bodies.
pub const JSON_TYPES: &str = "application/json, application/vnd.tessera-2.1+json, application/vnd.tessera-3.0+json, application/vnd.tessera-4.0+json";

/// Parses a JSON body; malformed input gets 400 with serde's reason.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("Invalid request body: {e}")))
}

/// A JSON response with the given media type.
pub fn json_response<T: Serialize>(
    status: StatusCode,
    media_type: &'static str,
    value: &T,
) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, media_type)], body).into_response(),
        Err(e) => ApiError::Internal(format!("cannot serialize response: {e}")).into_response(),
    }
}

/// A `text/plain` response.
pub fn text_response(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, media::TEXT)], body.into()).into_response()
}

/// An `application/octet-stream` response.
pub fn octet_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, media::OCTET)], body).into_response()
}

/// Parses a base64 hash from text (path, header, body); 400 with the reason otherwise.
pub fn parse_hash(text: &str) -> ApiResult<MessageHash> {
    text.trim().parse().map_err(|e| ApiError::bad(format!("Invalid transaction hash: {e}")))
}

/// Parses a base64 public key; 400 with the reason otherwise.
pub fn parse_key(text: &str) -> ApiResult<PublicKey> {
    text.trim()
        .parse()
        .map_err(|e| ApiError::bad(format!("Invalid public key {:?}: {e}", text.trim())))
}

/// Reads an optional single-valued header as UTF-8.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> ApiResult<Option<&'a str>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::bad(format!("Header {name} is not valid text"))),
    }
}

/// Parses a comma-separated key list header (`c11n-to`); absent or empty gives `[]`.
pub fn header_keys(headers: &HeaderMap, name: &str) -> ApiResult<Vec<PublicKey>> {
    let mut keys = Vec::new();
    for value in headers.get_all(name) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::bad(format!("Header {name} is not valid text")))?;
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            keys.push(parse_key(item)?);
        }
    }
    Ok(keys)
}

/// Adds `tesseraSupportedApiVersions` to a response.
pub async fn add_version_header(mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&media::api_version_header_value()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("tesserasupportedapiversions"), value);
    }
    response
}

/// 404 for unknown paths.
pub async fn not_found() -> Response {
    text_response(StatusCode::NOT_FOUND, "Not found")
}
