//! Q2T (quorum-to-tessera) API: what GoQuorum calls, over HTTP or a unix socket.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use qrs_enclave::{EncodedPayload, MessageHash, PrivacyMode, PublicKey};

use super::{
    AppState, JSON_TYPES, header_keys, header_str, json_response, octet_response, parse_hash,
    parse_json, parse_key, request_flavor, text_response,
};
use crate::{
    error::{ApiError, ApiResult},
    media::{self, JsonFlavor},
    model::{
        DeleteRequest, EncodedPayloadJson, ReceiveBatchRequest, ReceiveBatchResponse,
        ReceiveResponse, SendRequest, SendResponse, SendSignedRequest, StoreRawRequest,
        StoreRawResponse,
    },
    transaction::{Received, SendOutcome, SendParams},
};

/// Java `URLEncoder.encode` of a base64 hash (for the informational `Location` header).
fn location(hash: &MessageHash) -> String {
    format!("transaction/{}", utf8_percent_encode(&hash.to_base64(), NON_ALPHANUMERIC))
}

fn send_response(flavor: JsonFlavor, out: SendOutcome) -> Response {
    let body = SendResponse {
        key: out.hash,
        managed_parties: flavor.is_enhanced().then_some(out.managed_parties),
        sender_key: flavor.is_enhanced().then_some(out.sender),
    };
    let mut response = json_response(StatusCode::CREATED, flavor.media_type(), &body);
    if let Ok(value) = location(&out.hash).parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn params_from_send(req: &SendRequest) -> SendParams {
    SendParams {
        from: req.from,
        to: req.to.clone(),
        privacy_flag: req.privacy_flag,
        affected: req.affected_contract_transactions.clone(),
        exec_hash: req.exec_hash.clone().filter(|s| !s.is_empty()),
        privacy_group_id: req.privacy_group_id.clone(),
        mandatory: req.mandatory_recipients.clone(),
    }
}

async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let flavor = request_flavor(&headers, JSON_TYPES)?;
    let req: SendRequest = parse_json(&body)?;
    let out = state.tm.send(&req.payload, params_from_send(&req)).await?;
    Ok(send_response(flavor, out))
}

async fn send_signed(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if media::content_type(&headers).as_deref() == Some(media::OCTET) {
        let hash = MessageHash::from_slice(&body)
            .map_err(|e| ApiError::bad(format!("Body must be the raw 64-byte hash: {e}")))?;
        let to = header_keys(&headers, "c11n-to")?;
        let out = state.tm.send_signed(&hash, SendParams { to, ..SendParams::default() }).await?;
        return Ok(text_response(StatusCode::OK, out.hash.to_base64()));
    }
    let flavor = request_flavor(
        &headers,
        "application/octet-stream, application/json, application/vnd.tessera-2.1+json, application/vnd.tessera-3.0+json, application/vnd.tessera-4.0+json",
    )?;
    let req: SendSignedRequest = parse_json(&body)?;
    let hash = MessageHash::from_slice(&req.hash)
        .map_err(|e| ApiError::bad(format!("Invalid hash: {e}")))?;
    let params = SendParams {
        from: None,
        to: req.to,
        privacy_flag: req.privacy_flag,
        affected: req.affected_contract_transactions,
        exec_hash: req.exec_hash.filter(|s| !s.is_empty()),
        privacy_group_id: req.privacy_group_id,
        mandatory: req.mandatory_recipients,
    };
    let out = state.tm.send_signed(&hash, params).await?;
    Ok(send_response(flavor, out))
}

async fn store_raw(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let flavor = request_flavor(&headers, JSON_TYPES)?;
    let req: StoreRawRequest = parse_json(&body)?;
    let key = state.tm.store_raw(&req.payload, req.from).await?;
    Ok(json_response(StatusCode::OK, flavor.media_type(), &StoreRawResponse { key }))
}

/// `POST /storeraw` (shared with ThirdParty).
pub async fn store_raw_handler(
    state: State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    store_raw(state, headers, body).await
}

/// Which resource under `/transaction/` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxResource {
    Receive,
    IsSender,
    Participants,
    Mandatory,
}

/// Splits the raw (still percent-encoded) path after `/transaction/` into hash and resource.
/// Works whether `/` inside the hash is sent as `%2F` or literally; `+` stays `+`.
fn parse_tx_path(raw_path: &str) -> ApiResult<(MessageHash, TxResource)> {
    let rest = raw_path.strip_prefix("/transaction/").unwrap_or(raw_path);
    let (hash_part, resource) = [
        ("/isSender", TxResource::IsSender),
        ("/participants", TxResource::Participants),
        ("/mandatory", TxResource::Mandatory),
    ]
    .into_iter()
    .find_map(|(suffix, r)| rest.strip_suffix(suffix).map(|h| (h, r)))
    .unwrap_or((rest, TxResource::Receive));
    let decoded = percent_decode_str(hash_part)
        .decode_utf8()
        .map_err(|_| ApiError::bad("Transaction hash in path is not valid UTF-8"))?;
    Ok((parse_hash(&decoded)?, resource))
}

/// Query parameters of `GET /transaction/{hash}` (`to`, `isRaw`), with `+` kept literal.
fn parse_receive_query(query: Option<&str>) -> ApiResult<(Option<PublicKey>, bool)> {
    let mut to = None;
    let mut raw = false;
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| ApiError::bad(format!("Query parameter {name} is not valid UTF-8")))?;
        // Base64 never contains spaces: a form-encoded '+' is restored.
        let value = value.replace(' ', "+");
        match name {
            "to" if !value.is_empty() => to = Some(parse_key(&value)?),
            // Java's Boolean.parseBoolean: only "true" (any case) is true.
            "isRaw" => raw = value.eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
    Ok((to, raw))
}

fn receive_response(flavor: JsonFlavor, r: Received) -> Response {
    json_response(StatusCode::OK, flavor.media_type(), &receive_body(flavor, r))
}

/// Hashes per `POST /receiveBatch` request.
const MAX_RECEIVE_BATCH: usize = 10_000;

/// `POST /receiveBatch`: many receives in one request (a qtm extension; see
/// [`ReceiveBatchRequest`]).
async fn receive_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let flavor = request_flavor(&headers, JSON_TYPES)?;
    let req: ReceiveBatchRequest = parse_json(&body)?;
    if req.hashes.len() > MAX_RECEIVE_BATCH {
        return Err(ApiError::bad(format!(
            "At most {MAX_RECEIVE_BATCH} hashes per request, got {}",
            req.hashes.len()
        )));
    }
    let received = state.tm.receive_many(&req.hashes).await?;
    let payloads = received.into_iter().map(|r| r.map(|r| receive_body(flavor, r))).collect();
    Ok(json_response(StatusCode::OK, flavor.media_type(), &ReceiveBatchResponse { payloads }))
}

fn receive_body(flavor: JsonFlavor, r: Received) -> ReceiveResponse {
    ReceiveResponse {
        payload: r.payload,
        affected_contract_transactions: r.affected,
        exec_hash: String::from_utf8_lossy(&r.exec_hash).into_owned(),
        privacy_flag: r.mode.flag(),
        managed_parties: flavor.is_enhanced().then_some(r.managed_parties),
        sender_key: flavor.is_enhanced().then_some(r.sender),
        privacy_group_id: r.privacy_group_id,
    }
}

async fn transaction_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Response> {
    let (hash, resource) = parse_tx_path(uri.path())?;
    let tm = &state.tm;
    match resource {
        TxResource::Receive => {
            let flavor =
                media::accepted_flavor(&headers).ok_or(ApiError::NotAcceptable(JSON_TYPES))?;
            let (to, raw) = parse_receive_query(uri.query())?;
            Ok(receive_response(flavor, tm.receive(&hash, to, raw).await?))
        }
        TxResource::IsSender => {
            Ok(text_response(StatusCode::OK, tm.is_sender(&hash).await?.to_string()))
        }
        TxResource::Participants => {
            let payload = tm.payload(&hash).await?;
            Ok(text_response(StatusCode::OK, join_keys(&payload.recipient_keys)))
        }
        TxResource::Mandatory => {
            let payload = tm.payload(&hash).await?;
            if payload.privacy_mode != PrivacyMode::MandatoryRecipients {
                return Err(ApiError::bad(format!(
                    "Operation invalid: transaction {hash} is not a mandatory recipients transaction"
                )));
            }
            Ok(text_response(StatusCode::OK, join_keys(&payload.mandatory_recipients)))
        }
    }
}

fn join_keys(keys: &[PublicKey]) -> String {
    keys.iter().map(PublicKey::to_base64).collect::<Vec<_>>().join(",")
}

async fn transaction_delete(State(state): State<AppState>, uri: Uri) -> ApiResult<Response> {
    let (hash, resource) = parse_tx_path(uri.path())?;
    if resource != TxResource::Receive {
        return Err(ApiError::bad("DELETE is only allowed on /transaction/{hash}"));
    }
    state.tm.delete(&hash).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn transaction_any(
    state: State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Response> {
    match method {
        Method::GET => transaction_get(state, headers, uri).await,
        Method::DELETE => transaction_delete(state, uri).await,
        _ => Ok(text_response(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")),
    }
}

async fn delete_legacy(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    request_flavor(&headers, JSON_TYPES)?;
    let req: DeleteRequest = parse_json(&body)?;
    state.tm.delete(&req.key).await?;
    Ok(text_response(StatusCode::OK, "Delete successful"))
}

async fn encoded_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let flavor = request_flavor(&headers, JSON_TYPES)?;
    let req: SendRequest = parse_json(&body)?;
    let payload = state.tm.encrypt_only(&req.payload, params_from_send(&req)).await?;
    Ok(json_response(StatusCode::OK, flavor.media_type(), &payload_to_json(&payload)))
}

fn payload_to_json(p: &EncodedPayload) -> EncodedPayloadJson {
    EncodedPayloadJson {
        sender_key: p.sender_key,
        cipher_text: p.cipher_text.clone(),
        cipher_text_nonce: p.cipher_text_nonce.clone(),
        recipient_nonce: p.recipient_nonce.clone(),
        recipient_boxes: p.recipient_boxes.clone(),
        recipient_keys: p.recipient_keys.clone(),
        privacy_mode: Some(i64::from(p.privacy_mode.flag())),
        affected_contract_transactions: p
            .affected_contract_transactions
            .iter()
            .map(|(k, v)| (*k, STANDARD.encode(v)))
            .collect(),
        exec_hash: (!p.exec_hash.is_empty()).then(|| p.exec_hash.clone()),
        mandatory_recipients: p.mandatory_recipients.clone(),
        privacy_group_id: p.privacy_group_id.clone(),
    }
}

fn payload_from_json(j: EncodedPayloadJson) -> ApiResult<EncodedPayload> {
    let flag = u32::try_from(j.privacy_mode.unwrap_or(0))
        .map_err(|_| ApiError::bad("Unknown privacy flag; valid flags are 0, 1, 2 and 3"))?;
    let affected = j
        .affected_contract_transactions
        .into_iter()
        .map(|(k, v)| {
            STANDARD
                .decode(v.trim())
                .map(|v| (k, v))
                .map_err(|e| ApiError::bad(format!("Invalid security hash base64: {e}")))
        })
        .collect::<ApiResult<_>>()?;
    Ok(EncodedPayload {
        sender_key: j.sender_key,
        cipher_text: j.cipher_text,
        cipher_text_nonce: j.cipher_text_nonce,
        recipient_boxes: j.recipient_boxes,
        recipient_nonce: j.recipient_nonce,
        recipient_keys: j.recipient_keys,
        privacy_mode: PrivacyMode::from_flag(flag)?,
        affected_contract_transactions: affected,
        exec_hash: j.exec_hash.unwrap_or_default(),
        mandatory_recipients: j.mandatory_recipients,
        privacy_group_id: j.privacy_group_id,
    })
}

async fn encoded_decrypt(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let flavor = request_flavor(&headers, JSON_TYPES)?;
    let payload = payload_from_json(parse_json(&body)?)?;
    if payload.recipient_boxes.is_empty() {
        return Err(ApiError::bad("recipientBoxes must not be empty"));
    }
    let plain = state
        .tm
        .decrypt_any(&payload, None)
        .await?
        .ok_or_else(|| ApiError::bad("No local key can decrypt this payload"))?;
    let body = ReceiveResponse {
        payload: plain,
        affected_contract_transactions: payload
            .affected_contract_transactions
            .keys()
            .copied()
            .collect(),
        exec_hash: String::from_utf8_lossy(&payload.exec_hash).into_owned(),
        privacy_flag: payload.privacy_mode.flag(),
        managed_parties: None,
        sender_key: None,
        privacy_group_id: payload.privacy_group_id,
    };
    Ok(json_response(StatusCode::OK, flavor.media_type(), &body))
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PrivacyGroupResponse {
    privacy_group_id: String,
    name: String,
    description: String,
    #[serde(rename = "type")]
    kind: &'static str,
    members: Vec<PublicKey>,
}

async fn groups(State(state): State<AppState>, Path(kind): Path<String>) -> ApiResult<Response> {
    match kind.to_ascii_lowercase().as_str() {
        "resident" => {
            let Some(groups) = &state.settings.resident_groups else {
                return Ok(text_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Multiple private state feature is not available on this privacy manager",
                ));
            };
            let body: Vec<PrivacyGroupResponse> = groups
                .iter()
                .map(|g| PrivacyGroupResponse {
                    privacy_group_id: STANDARD.encode(g.name.as_bytes()),
                    name: g.name.clone(),
                    description: g.description.clone().unwrap_or_default(),
                    kind: "RESIDENT",
                    members: g.members.clone(),
                })
                .collect();
            Ok(json_response(StatusCode::OK, media::JSON, &body))
        }
        "legacy" | "pantheon" => {
            Ok(json_response(StatusCode::OK, media::JSON, &Vec::<PrivacyGroupResponse>::new()))
        }
        _ => Err(ApiError::bad(format!(
            "Unknown privacy group type {kind:?}; expected legacy, pantheon or resident"
        ))),
    }
}

async fn send_raw(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    super::require_content_type(&headers, media::OCTET)?;
    let from = match header_str(&headers, "c11n-from")?.map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(parse_key(s)?),
    };
    let to = header_keys(&headers, "c11n-to")?;
    let params = SendParams { from, to, ..SendParams::default() };
    let out = state.tm.send(&body, params).await?;
    Ok(text_response(StatusCode::OK, out.hash.to_base64()))
}

async fn receive_raw(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let key = header_str(&headers, "c11n-key")?
        .ok_or_else(|| ApiError::bad("Header c11n-key is required"))?;
    let hash = parse_hash(key)?;
    let to = match header_str(&headers, "c11n-to")?.map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(parse_key(s)?),
    };
    let received = state.tm.receive(&hash, to, false).await?;
    Ok(octet_response(StatusCode::OK, received.payload))
}

/// The Q2T router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/send", post(send))
        .route("/sendsignedtx", post(send_signed))
        .route("/storeraw", post(store_raw))
        .route("/transaction/{*rest}", get(transaction_any).delete(transaction_any))
        .route("/delete", post(delete_legacy))
        .route("/encodedpayload/create", post(encoded_create))
        .route("/encodedpayload/decrypt", post(encoded_decrypt))
        .route("/groups/{kind}", get(groups))
        .route("/sendraw", post(send_raw))
        .route("/receiveraw", get(receive_raw))
        .route("/receiveBatch", post(receive_batch))
        .merge(super::common::routes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_hash() -> MessageHash {
        let mut bytes = [0u8; 64];
        bytes[0] = 0xfb; // base64 starts with "+"
        bytes[1] = 0xff;
        bytes[2] = 0xbf; // contains "/"
        MessageHash(bytes)
    }

    #[test]
    fn tx_path_accepts_encoded_and_literal_slashes() {
        let hash = sample_hash();
        let b64 = hash.to_base64();
        assert!(b64.contains('+') && b64.contains('/'));
        let escaped = b64.replace('/', "%2F");
        assert_eq!(
            parse_tx_path(&format!("/transaction/{escaped}")).ok(),
            Some((hash, TxResource::Receive))
        );
        assert_eq!(
            parse_tx_path(&format!("/transaction/{b64}")).ok(),
            Some((hash, TxResource::Receive))
        );
        assert_eq!(
            parse_tx_path(&format!("/transaction/{escaped}/isSender")).ok(),
            Some((hash, TxResource::IsSender))
        );
        assert_eq!(
            parse_tx_path(&format!("/transaction/{b64}/participants")).ok(),
            Some((hash, TxResource::Participants))
        );
        assert!(parse_tx_path("/transaction/not-base64!").is_err());
    }

    #[test]
    fn query_keeps_plus() {
        let key = PublicKey([0xfb; 32]);
        let b64 = key.to_base64();
        let (to, raw) = parse_receive_query(Some(&format!("to={b64}&isRaw=TRUE"))).expect("parses");
        assert_eq!(to, Some(key));
        assert!(raw);
        let (to, raw) =
            parse_receive_query(Some(&format!("to={}&isRaw=no", b64.replace('+', "%2B"))))
                .expect("parses");
        assert_eq!(to, Some(key));
        assert!(!raw);
    }

    #[test]
    fn location_is_form_encoded() {
        let loc = location(&sample_hash());
        assert!(loc.starts_with("transaction/%2B"));
        assert!(!loc.contains('/') || loc.matches('/').count() == 1);
    }
}
