//! [`RemoteEnclave`]: an [`Enclave`] over Tessera's enclave REST API (a `qenclave` or a Tessera
//! enclave server).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::{
    EnclavePayload, EnclaveRawPayload, EnclaveUnencryptPayload, FindInvalidSecurityHashesRequest,
    FindInvalidSecurityHashesResponse, KeyValuePair, WireMetadata,
};
use super::{ERROR_KEY_HEADER, ERROR_KIND_HEADER};
use crate::enclave::{Enclave, EnclaveStatus};
use crate::error::EnclaveError;
use crate::payload::{EncodedPayload, RawTransaction};
use crate::types::{AffectedTransaction, MessageHash, PrivacyMetadata, PublicKey};

/// Default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Client of a remote enclave.
#[derive(Debug, Clone)]
pub struct RemoteEnclave {
    base: String,
    http: reqwest::Client,
}

impl RemoteEnclave {
    /// A client for the enclave at `base_url` (e.g. `http://127.0.0.1:9081`).
    pub fn new(base_url: &str) -> Result<Self, EnclaveError> {
        Self::with_timeout(base_url, DEFAULT_TIMEOUT)
    }

    /// A client with an explicit request timeout.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, EnclaveError> {
        let base = base_url.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|source| EnclaveError::RemoteUnavailable { url: base.clone(), source })?;
        Ok(Self { base, http })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    async fn send(
        &self,
        url: String,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, EnclaveError> {
        let response = request
            .send()
            .await
            .map_err(|source| EnclaveError::RemoteUnavailable { url: url.clone(), source })?;
        if response.status() == StatusCode::OK {
            return Ok(response);
        }
        Err(Self::error_from(url, response).await)
    }

    async fn error_from(url: String, response: Response) -> EnclaveError {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let kind = header(ERROR_KIND_HEADER);
        let key = header(ERROR_KEY_HEADER).and_then(|k| k.parse::<PublicKey>().ok());
        let message = response.text().await.unwrap_or_default();
        match (kind.as_deref(), key) {
            (Some("unknown-key"), Some(key)) => EnclaveError::UnknownKey(key),
            (Some("not-a-recipient"), Some(key)) => EnclaveError::NotARecipient(key),
            (Some("weak-key"), Some(key)) => EnclaveError::WeakKey(key),
            (Some("decryption-failed"), _) => EnclaveError::DecryptionFailed,
            (Some("no-keys"), _) => EnclaveError::NoKeys,
            _ => EnclaveError::Remote { url, status, message },
        }
    }

    async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, EnclaveError> {
        let url = self.url(path);
        let response = self.send(url.clone(), self.http.get(&url)).await?;
        Self::bytes(url, response).await
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, EnclaveError> {
        let url = self.url(path);
        let response = self.send(url.clone(), self.http.get(&url)).await?;
        Self::json(url, response).await
    }

    async fn post_for_bytes<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Vec<u8>, EnclaveError> {
        let url = self.url(path);
        let response = self.send(url.clone(), self.http.post(&url).json(body)).await?;
        Self::bytes(url, response).await
    }

    async fn post_for_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, EnclaveError> {
        let url = self.url(path);
        let response = self.send(url.clone(), self.http.post(&url).json(body)).await?;
        Self::json(url, response).await
    }

    async fn bytes(url: String, response: Response) -> Result<Vec<u8>, EnclaveError> {
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|source| EnclaveError::RemoteUnavailable { url, source })
    }

    async fn json<T: DeserializeOwned>(url: String, response: Response) -> Result<T, EnclaveError> {
        let bytes = Self::bytes(url.clone(), response).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| EnclaveError::RemoteProtocol { url, reason: e.to_string() })
    }

    async fn post_for_payload<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<EncodedPayload, EnclaveError> {
        let bytes = self.post_for_bytes(path, body).await?;
        Ok(EncodedPayload::decode_legacy(&bytes)?)
    }
}

#[async_trait]
impl Enclave for RemoteEnclave {
    async fn default_public_key(&self) -> Result<PublicKey, EnclaveError> {
        let bytes = self.get_bytes("default").await?;
        PublicKey::from_slice(&bytes).map_err(|e| EnclaveError::RemoteProtocol {
            url: self.url("default"),
            reason: e.to_string(),
        })
    }

    async fn forwarding_keys(&self) -> Result<Vec<PublicKey>, EnclaveError> {
        self.get_json("forwarding").await
    }

    async fn public_keys(&self) -> Result<Vec<PublicKey>, EnclaveError> {
        self.get_json("public").await
    }

    async fn encrypt_payload(
        &self,
        message: &[u8],
        sender: PublicKey,
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError> {
        let body = EnclavePayload {
            data: message.to_vec(),
            sender_key: sender,
            meta: WireMetadata::from_meta(recipients, meta),
        };
        self.post_for_payload("encrypt", &body).await
    }

    async fn encrypt_raw_payload(
        &self,
        message: &[u8],
        sender: PublicKey,
    ) -> Result<RawTransaction, EnclaveError> {
        let body = EnclavePayload {
            data: message.to_vec(),
            sender_key: sender,
            meta: WireMetadata::default(),
        };
        let raw: EnclaveRawPayload = self.post_for_json("encrypt/toraw", &body).await?;
        Ok(raw.into_raw().0)
    }

    async fn encrypt_payload_from_raw(
        &self,
        raw: &RawTransaction,
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError> {
        let body = EnclaveRawPayload::from_raw(raw, WireMetadata::from_meta(recipients, meta));
        self.post_for_payload("encrypt/raw", &body).await
    }

    async fn unencrypt_transaction(
        &self,
        payload: &EncodedPayload,
        provided_key: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError> {
        let body = EnclaveUnencryptPayload {
            data: payload.encode_legacy(),
            provided_key: Some(provided_key),
        };
        self.post_for_bytes("unencrypt", &body).await
    }

    async fn unencrypt_raw_payload(&self, raw: &RawTransaction) -> Result<Vec<u8>, EnclaveError> {
        let body = EnclaveRawPayload::from_raw(raw, WireMetadata::default());
        self.post_for_bytes("unencrypt/raw", &body).await
    }

    async fn create_new_recipient_box(
        &self,
        payload: &EncodedPayload,
        recipient: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError> {
        let body = EnclaveUnencryptPayload {
            data: payload.encode_legacy(),
            provided_key: Some(recipient),
        };
        self.post_for_bytes("addRecipient", &body).await
    }

    async fn find_invalid_security_hashes(
        &self,
        payload: &EncodedPayload,
        affected: &[AffectedTransaction],
    ) -> Result<Vec<MessageHash>, EnclaveError> {
        let body = FindInvalidSecurityHashesRequest {
            encoded_payload: payload.encode_legacy(),
            affected_contract_transactions: affected
                .iter()
                .map(|a| KeyValuePair { key: a.hash.0.to_vec(), value: a.payload.encode_legacy() })
                .collect(),
        };
        let response: FindInvalidSecurityHashesResponse =
            self.post_for_json("findinvalidsecurityhashes", &body).await?;
        Ok(response.invalid_security_hashes)
    }

    async fn status(&self) -> Result<EnclaveStatus, EnclaveError> {
        let url = self.url("ping");
        match self.http.get(&url).send().await {
            Ok(response) if response.status() == StatusCode::OK => Ok(EnclaveStatus::Started),
            _ => Ok(EnclaveStatus::Stopped),
        }
    }
}
