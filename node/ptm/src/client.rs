//! [`PtmClient`]: the Q2T calls a node makes, with GoQuorum's version negotiation and receive
//! retry rule.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{
    PtmConfig, PtmError,
    metrics::{self, Call},
    model::{
        EncodedPayload, KeyOnly, RawSendResponse, ReceiveBatchRequest, ReceiveBatchResponse,
        Received, SendRequest, SendResponse, SendSignedRequest, TmHash,
    },
    transport::{Method, Reply, Transport},
};

const JSON: &str = "application/json";
const JSON_2_1: &str = "application/vnd.tessera-2.1+json";
const JSON_4_0: &str = "application/vnd.tessera-4.0+json";

/// Go's `url.PathEscape` for a base64 segment: `/` is escaped, `+` and `=` are kept.
const PATH_SEGMENT: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'+').remove(b'=');

/// What the TM's API version allows (GoQuorum `tessera_version_checker.go`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Features {
    /// The highest version in `/version/api` (1.0 when the TM lists none).
    pub api_version: f64,
    /// ≥ 2.0: privacy flags 1 and 3, JSON `/sendsignedtx`.
    pub privacy_enhancements: bool,
    /// ≥ 2.1: `vnd.tessera-2.1+json`, `managedParties` / `senderKey` in answers.
    pub multi_tenancy: bool,
    /// ≥ 3.0: resident groups.
    pub multiple_private_states: bool,
    /// ≥ 4.0: privacy flag 2.
    pub mandatory_recipients: bool,
}

impl Features {
    fn from_versions(versions: &[String]) -> Self {
        let api_version = versions
            .iter()
            .filter_map(|v| v.trim().trim_start_matches('v').parse::<f64>().ok())
            .fold(1.0_f64, f64::max);
        Self {
            api_version,
            privacy_enhancements: api_version >= 2.0,
            multi_tenancy: api_version >= 2.1,
            multiple_private_states: api_version >= 3.0,
            mandatory_recipients: api_version >= 4.0,
        }
    }
}

/// How `receive` retries a failed call (GoQuorum: 5 tries, 1 s apart, then it exits with 112).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveRetry {
    /// Attempts in all.
    pub attempts: u32,
    /// Pause between attempts.
    pub pause: Duration,
}

impl Default for ReceiveRetry {
    fn default() -> Self {
        Self { attempts: 5, pause: Duration::from_secs(1) }
    }
}

impl ReceiveRetry {
    /// Runs `attempt` until it succeeds or `attempts` have failed; `what` names the call in the
    /// log of a failure.
    async fn run<T, Fut>(
        self,
        what: &(dyn std::fmt::Display + Sync),
        mut attempt: impl FnMut() -> Fut,
    ) -> Result<T, PtmError>
    where
        Fut: Future<Output = Result<T, PtmError>>,
    {
        let mut tried = 1;
        loop {
            match attempt().await {
                Ok(found) => return Ok(found),
                Err(e) if tried < self.attempts => {
                    tracing::warn!(target: "ptm", %what, attempt = tried, error = %e, "receive failed; retrying");
                    tried += 1;
                    tokio::time::sleep(self.pause).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    features: Features,
    endpoint: String,
    retry: ReceiveRetry,
    /// Whether the TM answers `POST /receiveBatch` (qtm does, Tessera does not): unknown until
    /// the first block's payloads are fetched.
    batch_receive: AtomicU8,
}

const BATCH_UNKNOWN: u8 = 0;
const BATCH_YES: u8 = 1;
const BATCH_NO: u8 = 2;

/// Hashes per `POST /receiveBatch` request (qtm takes up to 10,000).
const RECEIVE_BATCH: usize = 1_000;
/// `POST /receiveBatch` requests in flight while fetching one block's payloads.
const RECEIVE_BATCHES_IN_FLIGHT: usize = 4;

/// A connected transaction manager client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PtmClient {
    inner: Arc<Inner>,
}

impl PtmClient {
    /// Checks `/upcheck`, reads `/version` and `/version/api`, and returns a client that uses the
    /// media types the TM's version allows.
    pub async fn connect(config: &PtmConfig) -> Result<Self, PtmError> {
        Self::connect_with_retry(config, ReceiveRetry::default()).await
    }

    /// [`Self::connect`] with a custom receive retry policy.
    pub async fn connect_with_retry(
        config: &PtmConfig,
        retry: ReceiveRetry,
    ) -> Result<Self, PtmError> {
        let transport = Transport::new(config)?;
        let up = transport.call(Method::Get, "/upcheck", "text/plain", None).await?;
        if up.status != 200 {
            return Err(PtmError::NotUp(format!("/upcheck answered {}: {}", up.status, up.text())));
        }
        let distribution = transport.call(Method::Get, "/version", "text/plain", None).await?;
        if distribution.status != 200 {
            return Err(PtmError::Protocol {
                call: "/version",
                reason: format!(
                    "answered {} (Constellation is not supported; use Tessera or qtm)",
                    distribution.status
                ),
            });
        }
        let api = transport.call(Method::Get, "/version/api", JSON, None).await?;
        let versions: Vec<String> = if api.status == 200 {
            serde_json::from_slice(&api.body)
                .map_err(|e| PtmError::Protocol { call: "/version/api", reason: e.to_string() })?
        } else {
            Vec::new()
        };
        let features = Features::from_versions(&versions);
        let endpoint = config.endpoint.to_string();
        tracing::info!(target: "ptm", %endpoint, version = %distribution.text(), api = features.api_version,
            "connected to the private transaction manager");
        let batch_receive = AtomicU8::new(BATCH_UNKNOWN);
        Ok(Self { inner: Arc::new(Inner { transport, features, endpoint, retry, batch_receive }) })
    }

    /// What the TM supports.
    pub fn features(&self) -> Features {
        self.inner.features
    }

    /// Where the TM is (URL or `unix:` path), for logs and errors.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    fn send_media(&self) -> &'static str {
        let f = self.inner.features;
        if f.mandatory_recipients {
            JSON_4_0
        } else if f.multi_tenancy {
            JSON_2_1
        } else {
            JSON
        }
    }

    fn read_media(&self) -> &'static str {
        if self.inner.features.multi_tenancy { JSON_2_1 } else { JSON }
    }

    async fn post_json<T: serde::Serialize>(
        &self,
        path: &'static str,
        media: &str,
        body: &T,
    ) -> Result<Reply, PtmError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| PtmError::Protocol { call: path, reason: e.to_string() })?;
        let reply = self.inner.transport.call(Method::Post, path, media, Some(bytes)).await?;
        if reply.status != 200 && reply.status != 201 {
            return Err(PtmError::Status { status: reply.status, body: reply.text() });
        }
        Ok(reply)
    }

    fn send_response(call: &'static str, reply: &Reply) -> Result<SendResponse, PtmError> {
        let raw: RawSendResponse = serde_json::from_slice(&reply.body)
            .map_err(|e| PtmError::Protocol { call, reason: e.to_string() })?;
        let key = TmHash::from_base64(&raw.key).ok_or_else(|| PtmError::Protocol {
            call,
            reason: format!("key {:?} is not base64 of 64 bytes", raw.key),
        })?;
        Ok(SendResponse {
            key,
            managed_parties: raw.managed_parties.unwrap_or_default(),
            sender_key: raw.sender_key,
        })
    }

    /// `POST /send`: encrypts `payload` for the recipients, stores it and pushes it to them.
    pub async fn send(&self, request: &SendRequest) -> Result<SendResponse, PtmError> {
        let started = Instant::now();
        let result = match self.post_json("/send", self.send_media(), request).await {
            Ok(reply) => Self::send_response("/send", &reply),
            Err(e) => Err(e),
        };
        metrics::observe(Call::Send, started, &result);
        result
    }

    /// `POST /storeraw`: encrypts and stores `payload` for the sender only.
    pub async fn store_raw(&self, payload: &[u8], from: Option<&str>) -> Result<TmHash, PtmError> {
        let started = Instant::now();
        let result = self.store_raw_inner(payload, from).await;
        metrics::observe(Call::StoreRaw, started, &result);
        result
    }

    async fn store_raw_inner(
        &self,
        payload: &[u8],
        from: Option<&str>,
    ) -> Result<TmHash, PtmError> {
        #[derive(serde::Serialize)]
        struct StoreRaw<'a> {
            #[serde(with = "crate::model::b64")]
            payload: Vec<u8>,
            #[serde(skip_serializing_if = "Option::is_none")]
            from: Option<&'a str>,
        }
        let body = StoreRaw { payload: payload.to_vec(), from };
        let reply = self.post_json("/storeraw", self.read_media(), &body).await?;
        let key: KeyOnly = serde_json::from_slice(&reply.body)
            .map_err(|e| PtmError::Protocol { call: "/storeraw", reason: e.to_string() })?;
        TmHash::from_base64(&key.key).ok_or_else(|| PtmError::Protocol {
            call: "/storeraw",
            reason: format!("key {:?} is not base64 of 64 bytes", key.key),
        })
    }

    /// `POST /sendsignedtx` (JSON): sends a payload stored with `/storeraw` to the recipients.
    pub async fn send_signed(&self, request: &SendSignedRequest) -> Result<SendResponse, PtmError> {
        let started = Instant::now();
        let result = match self.post_json("/sendsignedtx", self.send_media(), request).await {
            Ok(reply) => Self::send_response("/sendsignedtx", &reply),
            Err(e) => Err(e),
        };
        metrics::observe(Call::SendSigned, started, &result);
        result
    }

    /// `POST /encodedpayload/decrypt`: decrypts an encrypted payload this TM holds a key for,
    /// without it being stored (GoQuorum's `eth_decryptQuorumPayload`).
    pub async fn decrypt_encoded(&self, payload: &EncodedPayload) -> Result<Received, PtmError> {
        const CALL: &str = "/encodedpayload/decrypt";
        let reply = self.post_json(CALL, self.read_media(), payload).await?;
        serde_json::from_slice(&reply.body)
            .map_err(|e| PtmError::Protocol { call: CALL, reason: e.to_string() })
    }

    fn transaction_path(hash: &TmHash, suffix: &str) -> String {
        let escaped = utf8_percent_encode(&hash.to_base64(), PATH_SEGMENT).to_string();
        format!("/transaction/{escaped}{suffix}")
    }

    /// One `GET /transaction/{hash}` attempt: `Ok(None)` on 404 (not a party).
    async fn receive_once(&self, hash: &TmHash, raw: bool) -> Result<Option<Received>, PtmError> {
        let started = Instant::now();
        let result = self.receive_once_inner(hash, raw).await;
        metrics::observe_receive(started, &result);
        result
    }

    async fn receive_once_inner(
        &self,
        hash: &TmHash,
        raw: bool,
    ) -> Result<Option<Received>, PtmError> {
        let path = Self::transaction_path(hash, if raw { "?isRaw=true" } else { "?isRaw=false" });
        let reply = self.inner.transport.call(Method::Get, &path, self.read_media(), None).await?;
        match reply.status {
            200 | 201 => serde_json::from_slice(&reply.body)
                .map(Some)
                .map_err(|e| PtmError::Protocol { call: "/transaction", reason: e.to_string() }),
            404 => Ok(None),
            status => Err(PtmError::Status { status, body: reply.text() }),
        }
    }

    /// The payload of `hash` if this node is party to it (`None` = 404, not a party). Any other
    /// failure is retried ([`ReceiveRetry`]) and then returned: the caller must not treat it as
    /// "not a party", or its private state would silently diverge.
    pub async fn receive(&self, hash: &TmHash, raw: bool) -> Result<Option<Received>, PtmError> {
        self.inner.retry.run(hash, || self.receive_once(hash, raw)).await
    }

    /// The payloads of many hashes (a block's private transactions), in the order given.
    ///
    /// A TM that answers `POST /receiveBatch` (qtm) gets the hashes in a few requests; any other
    /// (Tessera answers 404) gets one `GET /transaction/{hash}` per hash, at most `concurrency`
    /// in flight. Either way a failure other than "not a party" is retried
    /// ([`ReceiveRetry`]) and then returned.
    pub async fn receive_many(
        &self,
        hashes: &[TmHash],
        concurrency: usize,
    ) -> Result<Vec<Option<Received>>, PtmError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        if self.inner.batch_receive.load(Ordering::Relaxed) != BATCH_NO {
            match self.receive_batches(hashes).await? {
                Some(found) => return Ok(found),
                None => {
                    self.inner.batch_receive.store(BATCH_NO, Ordering::Relaxed);
                    tracing::info!(target: "ptm", endpoint = %self.inner.endpoint,
                        "the TM has no /receiveBatch; fetching payloads one by one");
                }
            }
        }
        let results: Vec<Result<Option<Received>, PtmError>> = stream::iter(hashes.iter())
            .map(|h| self.receive(h, false))
            .buffered(concurrency.max(1))
            .collect()
            .await;
        results.into_iter().collect()
    }

    /// `POST /receiveBatch` of `hashes` in chunks; `Ok(None)` when the TM lacks the endpoint.
    async fn receive_batches(
        &self,
        hashes: &[TmHash],
    ) -> Result<Option<Vec<Option<Received>>>, PtmError> {
        let chunks: Vec<Result<Option<Vec<Option<Received>>>, PtmError>> =
            stream::iter(hashes.chunks(RECEIVE_BATCH))
                .map(|chunk| self.receive_batch(chunk))
                .buffered(RECEIVE_BATCHES_IN_FLIGHT)
                .collect()
                .await;
        let mut out = Vec::with_capacity(hashes.len());
        for chunk in chunks {
            match chunk? {
                Some(found) => out.extend(found),
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    }

    /// One `POST /receiveBatch`, retried like [`Self::receive`].
    async fn receive_batch(
        &self,
        hashes: &[TmHash],
    ) -> Result<Option<Vec<Option<Received>>>, PtmError> {
        let what = format!("a batch of {} hashes", hashes.len());
        self.inner
            .retry
            .run(&what, || async {
                let started = Instant::now();
                let result = self.receive_batch_once(hashes).await;
                metrics::observe(Call::ReceiveBatch, started, &result);
                result
            })
            .await
    }

    async fn receive_batch_once(
        &self,
        hashes: &[TmHash],
    ) -> Result<Option<Vec<Option<Received>>>, PtmError> {
        const CALL: &str = "/receiveBatch";
        let body = ReceiveBatchRequest { hashes: hashes.iter().map(TmHash::to_base64).collect() };
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| PtmError::Protocol { call: CALL, reason: e.to_string() })?;
        let reply =
            self.inner.transport.call(Method::Post, CALL, self.read_media(), Some(bytes)).await?;
        match reply.status {
            200 => {}
            // Tessera (or an older qtm): no such endpoint
            404 | 405 if self.inner.batch_receive.load(Ordering::Relaxed) == BATCH_UNKNOWN => {
                return Ok(None);
            }
            status => return Err(PtmError::Status { status, body: reply.text() }),
        }
        let answer: ReceiveBatchResponse = serde_json::from_slice(&reply.body)
            .map_err(|e| PtmError::Protocol { call: CALL, reason: e.to_string() })?;
        if answer.payloads.len() != hashes.len() {
            return Err(PtmError::Protocol {
                call: CALL,
                reason: format!("{} answers for {} hashes", answer.payloads.len(), hashes.len()),
            });
        }
        self.inner.batch_receive.store(BATCH_YES, Ordering::Relaxed);
        Ok(Some(answer.payloads))
    }

    async fn get_text(&self, path: String, call: &'static str) -> Result<String, PtmError> {
        let reply = self.inner.transport.call(Method::Get, &path, "text/plain", None).await?;
        if reply.status != 200 {
            return Err(PtmError::Status { status: reply.status, body: reply.text() });
        }
        String::from_utf8(reply.body.to_vec())
            .map_err(|e| PtmError::Protocol { call, reason: e.to_string() })
    }

    /// `GET /transaction/{hash}/isSender`.
    pub async fn is_sender(&self, hash: &TmHash) -> Result<bool, PtmError> {
        let text = self.get_text(Self::transaction_path(hash, "/isSender"), "isSender").await?;
        match text.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(PtmError::Protocol { call: "isSender", reason: format!("{other:?}") }),
        }
    }

    /// `GET /transaction/{hash}/participants`: the recipient keys this TM knows of.
    pub async fn participants(&self, hash: &TmHash) -> Result<Vec<String>, PtmError> {
        let text =
            self.get_text(Self::transaction_path(hash, "/participants"), "participants").await?;
        Ok(text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
    }

    /// `GET /transaction/{hash}/mandatory`: the mandatory recipients of a flag 2 transaction.
    pub async fn mandatory(&self, hash: &TmHash) -> Result<Vec<String>, PtmError> {
        let text = self.get_text(Self::transaction_path(hash, "/mandatory"), "mandatory").await?;
        Ok(text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_follow_the_highest_version() {
        let v = |s: &[&str]| {
            Features::from_versions(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())
        };
        let f = v(&["1.0", "2.0", "2.1", "3.0", "4.0"]);
        assert!(
            f.privacy_enhancements
                && f.multi_tenancy
                && f.multiple_private_states
                && f.mandatory_recipients
        );
        let f = v(&["1.0", "2.0"]);
        assert!(f.privacy_enhancements && !f.multi_tenancy);
        let f = v(&[]);
        assert_eq!(f.api_version, 1.0);
        assert!(!f.privacy_enhancements);
        let f = v(&["v2", "junk"]);
        assert!(f.privacy_enhancements);
    }

    #[test]
    fn path_escape_matches_go() {
        let mut bytes = [0u8; 64];
        bytes[0] = 0xfb; // base64 starts with "+"
        bytes[1] = 0xff; // ... then "/"
        let p = PtmClient::transaction_path(&TmHash(bytes), "");
        let b64 = TmHash(bytes).to_base64();
        assert!(b64.contains('/') && b64.contains('+'), "{b64}");
        assert_eq!(p, format!("/transaction/{}", b64.replace('/', "%2F")));
    }
}
