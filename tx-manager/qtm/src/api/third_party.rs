//! ThirdParty API (web3js-quorum): `/storeraw`, `/keys`, `/partyinfo/keys`.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};

use super::{AppState, json_response};
use crate::{
    media,
    model::{KeyEntry, KeyList},
};

async fn keys(State(state): State<AppState>) -> Response {
    let keys = state.tm.local_keys().iter().map(|k| KeyEntry { key: *k }).collect();
    json_response(StatusCode::OK, media::JSON, &KeyList { keys })
}

async fn party_keys(State(state): State<AppState>) -> Response {
    let keys = state.discovery.all_keys().into_iter().map(|key| KeyEntry { key }).collect();
    json_response(StatusCode::OK, media::JSON, &KeyList { keys })
}

/// The ThirdParty router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/storeraw", post(super::q2t::store_raw_handler))
        .route("/keys", get(keys))
        .route("/partyinfo/keys", get(party_keys))
        .merge(super::common::routes())
}
