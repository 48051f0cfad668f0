//! HTTP client for the P2P API of other nodes (`/push`, `/partyinfo`, `/partyinfo/validate`,
//! `/resend`), plain or mutual TLS. Every request carries `tesseraSupportedApiVersions`.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use reqwest::{StatusCode, header};
use thiserror::Error;
use url::Url;

use crate::{
    media::{self, API_VERSION_HEADER, OCTET},
    model::{PartyInfoJson, PushBatchRequest, ResendRequest},
};

/// A peer call failed. Cheap to clone: one failed batch answers every push it carried.
#[derive(Debug, Clone, Error)]
pub enum PeerError {
    /// The peer could not be reached (connect, TLS, timeout, reset).
    #[error("{url} unreachable: {source}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// The transport error.
        #[source]
        source: Arc<reqwest::Error>,
    },
    /// The peer answered with an unexpected status.
    #[error("{url} answered {status}: {body}")]
    Status {
        /// The URL called.
        url: String,
        /// The status.
        status: u16,
        /// The body (truncated).
        body: String,
    },
    /// The peer's answer could not be understood.
    #[error("{url} sent an invalid answer: {reason}")]
    Protocol {
        /// The URL called.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// A peer URL could not be joined with an endpoint path.
    #[error("invalid peer url {0:?}")]
    BadUrl(String),
    /// The client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] Arc<reqwest::Error>),
}

impl PeerError {
    /// The peer is unreachable (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

/// A successful answer: body and the peer's advertised API versions.
#[derive(Debug, Clone)]
pub struct PeerAnswer {
    /// Response body.
    pub body: Bytes,
    /// Versions from the response's `tesseraSupportedApiVersions`, if sent.
    pub versions: Vec<String>,
}

/// Client for other nodes' P2P servers.
#[derive(Debug, Clone)]
pub struct PeerClient {
    http: reqwest::Client,
}

/// Joins a node base URL (`http://host:port/`) with an endpoint path.
pub fn endpoint(base: &str, path: &str) -> Result<Url, PeerError> {
    let base = Url::parse(base).map_err(|_| PeerError::BadUrl(base.into()))?;
    base.join(path).map_err(|_| PeerError::BadUrl(base.to_string()))
}

impl PeerClient {
    /// Builds a client; `tls` is the rustls config for `https` peers (mutual TLS).
    pub fn new(tls: Option<rustls::ClientConfig>, timeout: Duration) -> Result<Self, PeerError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .no_proxy();
        if let Some(tls) = tls {
            builder = builder.use_preconfigured_tls(tls);
        }
        Ok(Self { http: builder.build().map_err(|e| PeerError::Build(Arc::new(e)))? })
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
        ok: &[StatusCode],
    ) -> Result<PeerAnswer, PeerError> {
        let url_s = url.to_string();
        let response = request
            .header(API_VERSION_HEADER, media::api_version_header_value())
            .send()
            .await
            .map_err(|source| PeerError::Unreachable {
                url: url_s.clone(),
                source: Arc::new(source),
            })?;
        let status = response.status();
        let versions = media::peer_versions(response.headers());
        let body = response.bytes().await.map_err(|source| PeerError::Unreachable {
            url: url_s.clone(),
            source: Arc::new(source),
        })?;
        if ok.contains(&status) {
            Ok(PeerAnswer { body, versions })
        } else {
            let mut text = String::from_utf8_lossy(&body).into_owned();
            text.truncate(512);
            Err(PeerError::Status { url: url_s, status: status.as_u16(), body: text })
        }
    }

    /// `POST /push` with a LEGACY-encoded payload.
    pub async fn push(&self, base: &str, payload: Vec<u8>) -> Result<PeerAnswer, PeerError> {
        let url = endpoint(base, "push")?;
        let req = self.http.post(url.clone()).header(header::CONTENT_TYPE, OCTET).body(payload);
        self.call(req, &url, &[StatusCode::OK, StatusCode::CREATED]).await
    }

    /// `POST /partyinfo` with a binary PartyInfo.
    pub async fn send_party_info(
        &self,
        base: &str,
        body: Vec<u8>,
    ) -> Result<PeerAnswer, PeerError> {
        let url = endpoint(base, "partyinfo")?;
        let req = self.http.post(url.clone()).header(header::CONTENT_TYPE, OCTET).body(body);
        self.call(req, &url, &[StatusCode::OK]).await
    }

    /// `GET /partyinfo` (JSON view of the peer's network).
    pub async fn get_party_info(
        &self,
        base: &str,
    ) -> Result<(PartyInfoJson, Vec<String>), PeerError> {
        let url = endpoint(base, "partyinfo")?;
        let req = self.http.get(url.clone()).header(header::ACCEPT, media::JSON);
        let answer = self.call(req, &url, &[StatusCode::OK]).await?;
        let info = serde_json::from_slice(&answer.body)
            .map_err(|e| PeerError::Protocol { url: url.to_string(), reason: e.to_string() })?;
        Ok((info, answer.versions))
    }

    /// `POST /partyinfo/validate`: returns the decrypted text.
    pub async fn validate(&self, base: &str, payload: Vec<u8>) -> Result<String, PeerError> {
        let url = endpoint(base, "partyinfo/validate")?;
        let req = self.http.post(url.clone()).header(header::CONTENT_TYPE, OCTET).body(payload);
        let answer = self.call(req, &url, &[StatusCode::OK]).await?;
        String::from_utf8(answer.body.to_vec())
            .map_err(|_| PeerError::Protocol { url: url.to_string(), reason: "not UTF-8".into() })
    }

    /// `POST /pushBatch` with LEGACY-encoded payloads.
    pub async fn push_batch(
        &self,
        base: &str,
        payloads: Vec<Vec<u8>>,
    ) -> Result<PeerAnswer, PeerError> {
        let url = endpoint(base, "pushBatch")?;
        let req =
            self.http.post(url.clone()).json(&PushBatchRequest { encoded_payloads: payloads });
        self.call(req, &url, &[StatusCode::OK, StatusCode::CREATED]).await
    }

    /// `POST /resend`.
    pub async fn resend(
        &self,
        base: &str,
        request: &ResendRequest,
    ) -> Result<PeerAnswer, PeerError> {
        let url = endpoint(base, "resend")?;
        // Resend ALL is synchronous over the whole history: allow it time.
        let req = self.http.post(url.clone()).json(request).timeout(Duration::from_secs(600));
        self.call(req, &url, &[StatusCode::OK]).await
    }
}
