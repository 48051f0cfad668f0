//! Endpoints every server has: `/upcheck`, `/version`, `/version/distribution`, `/version/api`.

use axum::{Router, http::StatusCode, response::Response, routing::get};

use super::{AppState, json_response, text_response};
use crate::media;

async fn upcheck() -> Response {
    text_response(StatusCode::OK, "I'm up!")
}

async fn version() -> Response {
    text_response(StatusCode::OK, media::DISTRIBUTION_VERSION)
}

async fn api_versions() -> Response {
    json_response(StatusCode::OK, media::JSON, &media::DISPLAY_API_VERSIONS)
}

/// The common routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/upcheck", get(upcheck))
        .route("/version", get(version))
        .route("/version/distribution", get(version))
        .route("/version/api", get(api_versions))
}
