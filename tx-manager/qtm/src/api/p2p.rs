//! P2P API: what other Tessera/qtm nodes call (`/push`, `/partyinfo`, `/resend`, ...).

use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::post,
};
use bytes::Bytes;
use futures::future::join_all;
use qrs_enclave::EncodedPayload;

use super::{
    AppState, json_response, octet_response, parse_json, require_content_type, text_response,
};
use crate::{
    error::{ApiError, ApiResult},
    media,
    metrics::PayloadCount,
    model::{
        KeyUrl, PartyInfoJson, PeerUrl, PushBatchRequest, ResendBatchRequest, ResendBatchResponse,
        ResendRequest,
    },
    partyinfo::PartyInfoMessage,
    tls::PeerAddr,
};

fn decode_payload(body: &[u8]) -> ApiResult<EncodedPayload> {
    if body.is_empty() {
        return Err(ApiError::bad("Empty payload"));
    }
    EncodedPayload::decode_legacy(body)
        .map_err(|e| ApiError::bad(format!("Invalid encoded payload: {e}")))
}

async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, media::OCTET)?;
    let payload = decode_payload(&body)?;
    let hash = state.tm.store_pushed(payload).await?;
    Ok(text_response(StatusCode::CREATED, hash.to_base64()))
}

async fn party_info_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, media::OCTET)?;
    let msg = PartyInfoMessage::decode(&body)
        .map_err(|e| ApiError::bad(format!("Invalid PartyInfo: {e}")))?;
    state.discovery.on_party_info(msg, media::peer_versions(&headers)).await?;
    Ok(octet_response(StatusCode::OK, state.discovery.reply_party_info().encode()))
}

async fn party_info_get(State(state): State<AppState>) -> Response {
    let d = &state.discovery;
    let body = PartyInfoJson {
        url: d.own_url().to_owned(),
        peers: d.parties().into_iter().map(|url| PeerUrl { url }).collect(),
        keys: d.key_urls().into_iter().map(|(key, url)| KeyUrl { key, url }).collect(),
    };
    json_response(StatusCode::OK, media::JSON, &body)
}

async fn validate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, media::OCTET)?;
    let payload = decode_payload(&body)?;
    let key = *payload
        .recipient_keys
        .first()
        .ok_or_else(|| ApiError::bad("Payload has no recipient key"))?;
    if !state.tm.local_keys().contains(&key) {
        return Err(ApiError::bad(format!("{key} is not a key of this node")));
    }
    let plain = state
        .tm
        .decrypt_any(&payload, Some(key))
        .await?
        .ok_or_else(|| ApiError::bad("Validation payload does not decrypt"))?;
    // Only UUID-shaped plaintexts are revealed (Tessera's rule; limits the decryption oracle).
    let text =
        String::from_utf8(plain).map_err(|_| ApiError::bad("Validation payload is not a UUID"))?;
    uuid::Uuid::parse_str(&text).map_err(|_| ApiError::bad("Validation payload is not a UUID"))?;
    Ok(text_response(StatusCode::OK, text))
}

async fn resend(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    super::request_flavor(&headers, media::JSON)?;
    let req: ResendRequest = parse_json(&body)?;
    match state.tm.resend(&req).await? {
        Some(bytes) => Ok(octet_response(StatusCode::OK, bytes)),
        None => Ok(StatusCode::OK.into_response()),
    }
}

async fn resend_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    super::request_flavor(&headers, media::JSON)?;
    let req: ResendBatchRequest = parse_json(&body)?;
    let size = req.batch_size.unwrap_or(100);
    let size = u32::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| ApiError::bad("batchSize must be positive"))?;
    let total = state.tm.resend_batch(&req.public_key, size).await?;
    Ok(json_response(StatusCode::OK, media::JSON, &ResendBatchResponse { total }))
}

/// `POST /pushBatch`: a peer's resend in recovery, or its pushes coalesced under load
/// ([`crate::push_queue`]). Payloads that name no affected contract transaction are stored
/// concurrently (one group commit); the others after them, in order, so that one whose
/// affected transaction came in the same batch finds it. Every payload is tried; the answer is
/// the first error, if any (the sender then pushes the batch one by one).
async fn push_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    super::request_flavor(&headers, media::JSON)?;
    let req: PushBatchRequest = parse_json(&body)?;
    let payloads =
        req.encoded_payloads.iter().map(|p| decode_payload(p)).collect::<ApiResult<Vec<_>>>()?;
    let count = u64::try_from(payloads.len()).unwrap_or(u64::MAX);
    let (independent, dependent): (Vec<_>, Vec<_>) =
        payloads.into_iter().partition(|p| p.affected_contract_transactions.is_empty());
    let mut outcomes = join_all(independent.into_iter().map(|p| state.tm.store_pushed(p))).await;
    for payload in dependent {
        outcomes.push(state.tm.store_pushed(payload).await);
    }
    if let Some(error) = outcomes.into_iter().find_map(Result::err) {
        return Err(error);
    }
    let mut response = StatusCode::OK.into_response();
    response.extensions_mut().insert(PayloadCount(count));
    Ok(response)
}

async fn whitelist(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(allowed) = &state.settings.whitelist {
        let peer = request.extensions().get::<ConnectInfo<PeerAddr>>().map(|c| c.0.0.ip());
        let ok = peer.is_some_and(|ip| {
            allowed.contains(&ip) || (ip.is_loopback() && allowed.iter().any(|a| a.is_loopback()))
        });
        if !ok {
            return text_response(StatusCode::FORBIDDEN, "Host is not in the peer whitelist");
        }
    }
    next.run(request).await
}

/// The P2P router.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/push", post(push))
        .route("/partyinfo", post(party_info_post).get(party_info_get))
        .route("/partyinfo/validate", post(validate))
        .route("/resend", post(resend))
        .route("/resendBatch", post(resend_batch))
        .route("/pushBatch", post(push_batch))
        .merge(super::common::routes())
        .layer(middleware::from_fn_with_state(state, whitelist))
        .layer(middleware::map_response(super::add_version_header))
}
