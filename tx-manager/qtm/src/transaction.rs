//! The transaction manager: send (encrypt, push to every recipient, store), receive, raw
//! transactions, merge-on-push, resend, and Tessera's privacy-mode checks.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use futures::{StreamExt, future::try_join_all, stream};
use qrs_enclave::{
    AffectedTransaction, Enclave, EnclaveError, EncodedPayload, MessageHash, PrivacyMetadata,
    PrivacyMode, PublicKey, RawTransaction,
};
use qrs_tm_store::{PayloadCodec, PayloadStore, StoreError, StoredPayload, StoredRawPayload};

use crate::{
    client::{PeerClient, PeerError},
    discovery::Discovery,
    error::{ApiError, ApiResult},
    model::{ResendRequest, ResendType},
    push_queue::PushQueue,
};

/// What a send needs besides the plaintext.
#[derive(Debug, Clone, Default)]
pub struct SendParams {
    /// Sender (default key when `None`).
    pub from: Option<PublicKey>,
    /// Recipients.
    pub to: Vec<PublicKey>,
    /// Raw privacy flag from the request.
    pub privacy_flag: Option<i64>,
    /// Affected contract transaction hashes.
    pub affected: Vec<MessageHash>,
    /// Execution hash string (PSV).
    pub exec_hash: Option<String>,
    /// Privacy group id.
    pub privacy_group_id: Option<Vec<u8>>,
    /// Mandatory recipients (MR).
    pub mandatory: Vec<PublicKey>,
}

/// The result of a send.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    /// The transaction hash.
    pub hash: MessageHash,
    /// The sender.
    pub sender: PublicKey,
    /// Local keys that are parties.
    pub managed_parties: Vec<PublicKey>,
}

/// A decrypted transaction.
#[derive(Debug, Clone)]
pub struct Received {
    /// The plaintext.
    pub payload: Vec<u8>,
    /// Affected contract transaction hashes.
    pub affected: Vec<MessageHash>,
    /// Execution hash bytes.
    pub exec_hash: Vec<u8>,
    /// Privacy mode.
    pub mode: PrivacyMode,
    /// Local keys that are parties.
    pub managed_parties: Vec<PublicKey>,
    /// The sender.
    pub sender: PublicKey,
    /// Privacy group id.
    pub privacy_group_id: Option<Vec<u8>>,
}

/// Transaction manager settings.
#[derive(Debug, Clone)]
pub struct TxManagerConfig {
    /// `features.enablePrivacyEnhancements`.
    pub enhanced_privacy: bool,
    /// Page size for resend ALL.
    pub resend_page_size: u32,
}

const LOCK_STRIPES: usize = 256;
const MERGE_RETRIES: usize = 8;

/// The transaction manager.
#[derive(Debug)]
pub struct TxManager {
    enclave: Arc<dyn Enclave>,
    store: Arc<dyn PayloadStore>,
    discovery: Arc<Discovery>,
    client: PeerClient,
    pushes: PushQueue,
    local_keys: Vec<PublicKey>,
    default_key: PublicKey,
    forwarding: Vec<PublicKey>,
    config: TxManagerConfig,
    locks: Box<[tokio::sync::Mutex<()>]>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn distinct(keys: impl IntoIterator<Item = PublicKey>) -> Vec<PublicKey> {
    let mut seen = BTreeSet::new();
    keys.into_iter().filter(|k| seen.insert(*k)).collect()
}

/// The stored row for an encoded payload (the recipient index covers recipients and sender).
pub fn stored_row(payload: &EncodedPayload) -> StoredPayload {
    let recipients = distinct(payload.recipient_keys.iter().copied().chain([payload.sender_key]));
    StoredPayload {
        hash: payload.hash().0,
        encoded_payload: payload.encode_legacy(),
        codec: PayloadCodec::Legacy,
        recipients: recipients.into_iter().map(|k| k.0).collect(),
        sender: payload.sender_key.0,
        timestamp: now_millis(),
    }
}

fn decode_row(row: &StoredPayload) -> ApiResult<EncodedPayload> {
    match row.codec {
        PayloadCodec::Legacy => EncodedPayload::decode_legacy(&row.encoded_payload)
            .map_err(|e| ApiError::Internal(format!("stored payload cannot be decoded: {e}"))),
        PayloadCodec::Cbor => {
            Err(ApiError::Internal("CBOR-encoded stored payloads are not supported".into()))
        }
    }
}

fn raw_from_row(row: StoredRawPayload) -> RawTransaction {
    RawTransaction {
        encrypted_payload: row.encrypted_payload,
        encrypted_key: row.encrypted_key,
        nonce: row.nonce,
        from: PublicKey(row.sender),
    }
}

fn parse_mode(flag: Option<i64>) -> ApiResult<PrivacyMode> {
    let flag = flag.unwrap_or(0);
    let flag = u32::try_from(flag).map_err(|_| {
        ApiError::bad(format!("Unknown privacy flag {flag}; valid flags are 0, 1, 2 and 3"))
    })?;
    Ok(PrivacyMode::from_flag(flag)?)
}

fn immutable_fields_equal(a: &EncodedPayload, b: &EncodedPayload) -> bool {
    a.cipher_text == b.cipher_text
        && a.cipher_text_nonce == b.cipher_text_nonce
        && a.sender_key == b.sender_key
        && a.recipient_nonce == b.recipient_nonce
        && a.privacy_mode == b.privacy_mode
        && a.exec_hash == b.exec_hash
        && a.affected_contract_transactions == b.affected_contract_transactions
}

/// Merges the boxes of `incoming` into `existing` (Tessera 7.4). `None` when nothing is new.
fn merge(existing: &EncodedPayload, incoming: &EncodedPayload) -> Option<EncodedPayload> {
    let mut merged = existing.clone();
    let mut changed = false;
    let pairs: Vec<(PublicKey, Vec<u8>)> = incoming
        .recipient_keys
        .iter()
        .copied()
        .zip(incoming.recipient_boxes.iter().cloned())
        .collect();
    for (key, new_box) in pairs.into_iter().rev() {
        if merged.recipient_boxes.contains(&new_box) {
            continue;
        }
        if merged.privacy_mode == PrivacyMode::PrivateStateValidation {
            merged.recipient_keys.retain(|k| *k != key);
        } else if merged.recipient_keys.contains(&key) {
            continue;
        }
        merged.recipient_keys.insert(0, key);
        merged.recipient_boxes.insert(0, new_box);
        changed = true;
    }
    changed.then_some(merged)
}

impl TxManager {
    /// Creates the transaction manager.
    pub async fn new(
        enclave: Arc<dyn Enclave>,
        store: Arc<dyn PayloadStore>,
        discovery: Arc<Discovery>,
        client: PeerClient,
        config: TxManagerConfig,
    ) -> Result<Self, EnclaveError> {
        let local_keys = enclave.public_keys().await?;
        let default_key = enclave.default_public_key().await?;
        let forwarding = enclave.forwarding_keys().await?;
        let locks = (0..LOCK_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect();
        Ok(Self {
            enclave,
            store,
            discovery,
            pushes: PushQueue::new(client.clone()),
            client,
            local_keys,
            default_key,
            forwarding,
            config,
            locks,
        })
    }

    /// The enclave.
    pub fn enclave(&self) -> &Arc<dyn Enclave> {
        &self.enclave
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn PayloadStore> {
        &self.store
    }

    /// Local public keys.
    pub fn local_keys(&self) -> &[PublicKey] {
        &self.local_keys
    }

    /// The default key.
    pub fn default_key(&self) -> PublicKey {
        self.default_key
    }

    fn is_local(&self, key: &PublicKey) -> bool {
        self.local_keys.contains(key)
    }

    fn lock_for(&self, hash: &MessageHash) -> &tokio::sync::Mutex<()> {
        let index = usize::from(hash.0[0]) % LOCK_STRIPES;
        // The stripe count is fixed and non-zero, so the index is always in range.
        &self.locks[index]
    }

    fn local_sender(&self, from: Option<PublicKey>) -> ApiResult<PublicKey> {
        let sender = from.unwrap_or(self.default_key);
        if self.is_local(&sender) { Ok(sender) } else { Err(ApiError::KeyNotFound(sender)) }
    }

    fn managed_parties(&self, payload: &EncodedPayload) -> Vec<PublicKey> {
        let mut keys: Vec<PublicKey> =
            payload.recipient_keys.iter().copied().filter(|k| self.is_local(k)).collect();
        if self.is_local(&payload.sender_key) && !keys.contains(&payload.sender_key) {
            keys.push(payload.sender_key);
        }
        keys
    }

    async fn find_payload(&self, hash: &MessageHash) -> ApiResult<Option<EncodedPayload>> {
        match self.store.find(&hash.0).await? {
            Some(row) => decode_row(&row).map(Some),
            None => Ok(None),
        }
    }

    /// Tessera's `validateSendRequest` plus the metadata invariants; returns the metadata to
    /// encrypt with.
    async fn privacy_metadata(
        &self,
        params: &SendParams,
        recipients: &[PublicKey],
    ) -> ApiResult<PrivacyMetadata> {
        let mode = parse_mode(params.privacy_flag)?;
        if mode != PrivacyMode::StandardPrivate && !self.config.enhanced_privacy {
            return Err(ApiError::NotSupported(
                "Privacy enhancements are disabled (features.enablePrivacyEnhancements)".into(),
            ));
        }
        if params.privacy_group_id.is_some() {
            return Err(ApiError::PrivacyGroupNotFound);
        }
        let exec_hash = params.exec_hash.clone().unwrap_or_default().into_bytes();
        let mut affected = Vec::with_capacity(params.affected.len());
        for hash in distinct_hashes(&params.affected) {
            let payload = self.find_payload(&hash).await?.ok_or_else(|| {
                ApiError::PrivacyViolation(format!(
                    "Unable to find affectedContractTransaction {hash}"
                ))
            })?;
            affected.push(AffectedTransaction { hash, payload });
        }
        let mandatory = distinct(params.mandatory.iter().copied());
        if mode == PrivacyMode::MandatoryRecipients
            && let Some(missing) = mandatory.iter().find(|k| !recipients.contains(k))
        {
            return Err(ApiError::PrivacyViolation(format!(
                "One or more mandatory recipients not included in the participant list: {missing}"
            )));
        }
        let recipient_set: BTreeSet<PublicKey> = recipients.iter().copied().collect();
        for tx in &affected {
            if mode == PrivacyMode::PrivateStateValidation {
                let theirs: BTreeSet<PublicKey> =
                    tx.payload.recipient_keys.iter().copied().collect();
                if theirs != recipient_set {
                    return Err(ApiError::PrivacyViolation(format!(
                        "Recipients mismatched for Affected Txn {}",
                        tx.hash
                    )));
                }
            }
            let mandatory_covers =
                tx.payload.mandatory_recipients.iter().all(|k| mandatory.contains(k));
            if tx.payload.privacy_mode != mode || !mandatory_covers {
                return Err(ApiError::PrivacyViolation(format!(
                    "Privacy metadata mismatched with Affected Txn {}",
                    tx.hash
                )));
            }
        }
        let meta = PrivacyMetadata {
            privacy_mode: mode,
            affected_contract_transactions: BTreeMap::new(),
            exec_hash,
            mandatory_recipients: mandatory,
            privacy_group_id: None,
            affected_transactions: affected,
        };
        meta.validate()?;
        Ok(meta)
    }

    /// `/send`: encrypt, push to every remote recipient, then store.
    pub async fn send(&self, message: &[u8], params: SendParams) -> ApiResult<SendOutcome> {
        if message.is_empty() {
            return Err(ApiError::bad("payload must not be empty"));
        }
        let sender = self.local_sender(params.from)?;
        let recipients = distinct(
            params.to.iter().copied().chain([sender]).chain(self.forwarding.iter().copied()),
        );
        let meta = self.privacy_metadata(&params, &recipients).await?;
        let payload = self.enclave.encrypt_payload(message, sender, &recipients, &meta).await?;
        self.distribute(payload, sender).await
    }

    /// `/encodedpayload/create`: encrypt without storing or sending.
    pub async fn encrypt_only(
        &self,
        message: &[u8],
        params: SendParams,
    ) -> ApiResult<EncodedPayload> {
        if message.is_empty() {
            return Err(ApiError::bad("payload must not be empty"));
        }
        let sender = self.local_sender(params.from)?;
        let recipients = distinct(
            params.to.iter().copied().chain([sender]).chain(self.forwarding.iter().copied()),
        );
        let meta = self.privacy_metadata(&params, &recipients).await?;
        Ok(self.enclave.encrypt_payload(message, sender, &recipients, &meta).await?)
    }

    /// `/storeraw`.
    pub async fn store_raw(
        &self,
        message: &[u8],
        from: Option<PublicKey>,
    ) -> ApiResult<MessageHash> {
        if message.is_empty() {
            return Err(ApiError::bad("payload must not be empty"));
        }
        let sender = self.local_sender(from)?;
        let raw = self.enclave.encrypt_raw_payload(message, sender).await?;
        let hash = raw.hash();
        self.store
            .save_raw(StoredRawPayload {
                hash: hash.0,
                encrypted_payload: raw.encrypted_payload,
                encrypted_key: raw.encrypted_key,
                nonce: raw.nonce,
                sender: raw.from.0,
                timestamp: now_millis(),
            })
            .await?;
        Ok(hash)
    }

    async fn find_raw(&self, hash: &MessageHash) -> ApiResult<RawTransaction> {
        let row =
            self.store.find_raw(&hash.0).await?.ok_or(ApiError::RawTransactionNotFound(*hash))?;
        Ok(raw_from_row(row))
    }

    /// `/sendsignedtx`: re-wrap a stored raw transaction for the recipients and send it.
    pub async fn send_signed(
        &self,
        hash: &MessageHash,
        params: SendParams,
    ) -> ApiResult<SendOutcome> {
        let raw = self.find_raw(hash).await?;
        if !self.is_local(&raw.from) {
            return Err(ApiError::KeyNotFound(raw.from));
        }
        let recipients = distinct(
            params.to.iter().copied().chain(self.forwarding.iter().copied()).chain([raw.from]),
        );
        let meta = self.privacy_metadata(&params, &recipients).await?;
        let payload = self.enclave.encrypt_payload_from_raw(&raw, &recipients, &meta).await?;
        self.distribute(payload, raw.from).await
    }

    /// Pushes `payload` to every remote recipient concurrently, and stores it meanwhile (a new
    /// hash is inserted while the pushes run, so a send costs one store commit of latency, not
    /// two). Nothing stays stored locally unless every push succeeded: a failed push removes
    /// the row this send inserted. A hash already stored (the same raw payload sent again) is
    /// replaced only after the pushes succeeded, as before.
    async fn distribute(
        &self,
        payload: EncodedPayload,
        sender: PublicKey,
    ) -> ApiResult<SendOutcome> {
        let hash = payload.hash();
        let remote: Vec<PublicKey> =
            distinct(payload.recipient_keys.iter().copied().filter(|k| !self.is_local(k)));
        let routes =
            try_join_all(remote.iter().map(|key| self.discovery.route_or_refresh(key))).await?;
        for (key, route) in remote.iter().zip(&routes) {
            let has = |v: &str| route.versions.iter().any(|x| x == v);
            if payload.privacy_mode != PrivacyMode::StandardPrivate && !has("v2") {
                return Err(ApiError::NotSupported(format!(
                    "Recipient {key} at {} does not support enhanced privacy",
                    route.url
                )));
            }
            if payload.privacy_mode == PrivacyMode::MandatoryRecipients && !has("4.0") {
                return Err(ApiError::NotSupported(format!(
                    "Recipient {key} at {} does not support mandatory recipients",
                    route.url
                )));
            }
        }
        // One push per node, carrying the boxes of every recipient key that node holds.
        let mut by_node: BTreeMap<&str, Vec<PublicKey>> = BTreeMap::new();
        for (key, route) in remote.iter().zip(&routes) {
            by_node.entry(route.url.as_str()).or_default().push(*key);
        }
        let pushes = by_node.into_iter().map(|(url, keys)| {
            let payload = &payload;
            async move {
                let first = keys.first().copied().unwrap_or(sender);
                let body = for_recipients(payload, &keys)
                    .ok_or_else(|| ApiError::Internal(format!("no box for recipient {first}")))?
                    .encode_legacy();
                self.pushes.push(url, body).await.map_err(|e| self.push_error(e, url, first))
            }
        });
        let row = stored_row(&payload);
        let (pushed, inserted) =
            tokio::join!(try_join_all(pushes), self.store.save_if_unchanged(row.clone(), None));
        match (pushed, inserted) {
            (Ok(_), Ok(())) => {}
            (Ok(_), Err(StoreError::Conflict { .. })) => {
                let _guard = self.lock_for(&hash).lock().await;
                self.store.save(row).await?;
            }
            (Ok(_), Err(e)) => return Err(e.into()),
            (Err(e), Ok(())) => {
                self.remove_unsent(&row).await;
                return Err(e);
            }
            (Err(e), Err(_)) => return Err(e),
        }
        tracing::debug!(target: "qtm::tx", %hash, recipients = remote.len(), "sent");
        Ok(SendOutcome { hash, sender, managed_parties: self.managed_parties(&payload) })
    }

    /// Deletes `row`, inserted by a send whose push then failed, unless another send of the
    /// same hash has replaced it since.
    async fn remove_unsent(&self, row: &StoredPayload) {
        let _guard = self.lock_for(&MessageHash(row.hash)).lock().await;
        let outcome = match self.store.find(&row.hash).await {
            Ok(Some(current)) if current == *row => self.store.delete(&row.hash).await.map(|_| ()),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            tracing::warn!(target: "qtm::tx", hash = %MessageHash(row.hash), %e,
                "could not remove the payload of a send whose push failed");
        }
    }

    fn push_error(&self, e: PeerError, url: &str, key: PublicKey) -> ApiError {
        match e {
            PeerError::Status { status, body, .. } => {
                ApiError::PushRejected { url: url.to_owned(), key, status, body }
            }
            other => {
                if other.is_unreachable() {
                    self.discovery.forget(url);
                }
                ApiError::NodeOffline { url: url.to_owned(), key, reason: other.to_string() }
            }
        }
    }

    /// `GET /transaction/{hash}`.
    pub async fn receive(
        &self,
        hash: &MessageHash,
        to: Option<PublicKey>,
        raw: bool,
    ) -> ApiResult<Received> {
        if raw {
            let raw = self.find_raw(hash).await?;
            let payload = self.enclave.unencrypt_raw_payload(&raw).await?;
            return Ok(Received {
                payload,
                affected: vec![],
                exec_hash: vec![],
                mode: PrivacyMode::StandardPrivate,
                managed_parties: vec![raw.from],
                sender: raw.from,
                privacy_group_id: None,
            });
        }
        let payload = self.find_payload(hash).await?.ok_or(ApiError::TransactionNotFound(*hash))?;
        let plaintext =
            self.decrypt_any(&payload, to).await?.ok_or(ApiError::NotARecipient(*hash))?;
        Ok(self.received(&payload, plaintext))
    }

    /// What a receive answers for `payload`, decrypted to `plaintext`.
    fn received(&self, payload: &EncodedPayload, plaintext: Vec<u8>) -> Received {
        Received {
            payload: plaintext,
            affected: payload.affected_contract_transactions.keys().copied().collect(),
            exec_hash: payload.exec_hash.clone(),
            mode: payload.privacy_mode,
            managed_parties: self.managed_parties(payload),
            sender: payload.sender_key,
            privacy_group_id: payload.privacy_group_id.clone(),
        }
    }

    /// `POST /receiveBatch`: [`Self::receive`] of many hashes with one store query; `None`
    /// where the single receive would answer 404.
    pub async fn receive_many(&self, hashes: &[MessageHash]) -> ApiResult<Vec<Option<Received>>> {
        let keys: Vec<[u8; 64]> = hashes.iter().map(|h| h.0).collect();
        let rows = self.store.find_many(&keys).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(row) = row else {
                out.push(None);
                continue;
            };
            let payload = decode_row(&row)?;
            let plaintext = self.decrypt_any(&payload, None).await?;
            out.push(plaintext.map(|plaintext| self.received(&payload, plaintext)));
        }
        Ok(out)
    }

    /// Decrypts with `to`, or with the first local key that can. `Ok(None)` when no local key
    /// is a party; enclave outages stay errors.
    pub async fn decrypt_any(
        &self,
        payload: &EncodedPayload,
        to: Option<PublicKey>,
    ) -> ApiResult<Option<Vec<u8>>> {
        let candidates: Vec<PublicKey> = match to {
            Some(key) if !self.is_local(&key) => return Ok(None),
            Some(key) => vec![key],
            None => {
                let mut keys: Vec<PublicKey> =
                    payload.recipient_keys.iter().copied().filter(|k| self.is_local(k)).collect();
                if self.is_local(&payload.sender_key) {
                    keys.push(payload.sender_key);
                }
                if payload.recipient_keys.is_empty() {
                    keys.extend(self.local_keys.iter().copied());
                }
                distinct(keys)
            }
        };
        for key in candidates {
            match self.enclave.unencrypt_transaction(payload, key).await {
                Ok(plain) => return Ok(Some(plain)),
                Err(
                    EnclaveError::DecryptionFailed
                    | EnclaveError::NotARecipient(_)
                    | EnclaveError::UnknownKey(_),
                ) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// The stored payload (404 if absent).
    pub async fn payload(&self, hash: &MessageHash) -> ApiResult<EncodedPayload> {
        self.find_payload(hash).await?.ok_or(ApiError::TransactionNotFound(*hash))
    }

    /// `isSender`.
    pub async fn is_sender(&self, hash: &MessageHash) -> ApiResult<bool> {
        Ok(self.is_local(&self.payload(hash).await?.sender_key))
    }

    /// Deletes a transaction (404 if absent).
    pub async fn delete(&self, hash: &MessageHash) -> ApiResult<()> {
        if self.store.delete(&hash.0).await? {
            Ok(())
        } else {
            Err(ApiError::TransactionNotFound(*hash))
        }
    }

    /// `POST /push`: validate, then store or merge.
    pub async fn store_pushed(&self, mut payload: EncodedPayload) -> ApiResult<MessageHash> {
        let hash = payload.hash();
        if payload.recipient_boxes.is_empty() {
            return Err(ApiError::bad("pushed payload has no recipient box"));
        }
        if payload.privacy_mode != PrivacyMode::StandardPrivate && !self.config.enhanced_privacy {
            return Err(ApiError::NotSupported(
                "Privacy enhancements are disabled (features.enablePrivacyEnhancements)".into(),
            ));
        }
        if !self.check_pushed_privacy(&mut payload).await? {
            return Ok(hash);
        }
        if self.is_local(&payload.sender_key)
            && !payload.recipient_keys.contains(&payload.sender_key)
        {
            // Our own transaction coming back through resend: rebuild our own box.
            let own_box =
                self.enclave.create_new_recipient_box(&payload, payload.sender_key).await?;
            payload.recipient_keys.push(payload.sender_key);
            payload.recipient_boxes.push(own_box);
        }
        self.store_or_merge(payload).await?;
        Ok(hash)
    }

    /// Tessera's receive-side privacy checks. Returns `false` when Tessera would silently drop
    /// the transaction (logged here).
    async fn check_pushed_privacy(&self, payload: &mut EncodedPayload) -> ApiResult<bool> {
        if payload.affected_contract_transactions.is_empty() {
            return Ok(true);
        }
        let hash = payload.hash();
        let mut found = Vec::new();
        for affected in payload.affected_contract_transactions.keys() {
            if let Some(p) = self.find_payload(affected).await? {
                found.push(AffectedTransaction { hash: *affected, payload: p });
            }
        }
        for tx in &found {
            let mandatory_ok = tx
                .payload
                .mandatory_recipients
                .iter()
                .all(|k| payload.mandatory_recipients.contains(k));
            if tx.payload.privacy_mode != payload.privacy_mode || !mandatory_ok {
                tracing::warn!(target: "qtm::tx", %hash, affected = %tx.hash, "dropping pushed tx: privacy metadata mismatch with affected tx");
                return Ok(false);
            }
        }
        if payload.privacy_mode == PrivacyMode::PrivateStateValidation {
            if found.len() != payload.affected_contract_transactions.len() {
                tracing::warn!(target: "qtm::tx", %hash, "dropping pushed PSV tx: affected tx missing");
                return Ok(false);
            }
            let ours: BTreeSet<PublicKey> = payload.recipient_keys.iter().copied().collect();
            for tx in &found {
                if !tx.payload.recipient_keys.contains(&payload.sender_key) {
                    tracing::warn!(target: "qtm::tx", %hash, "dropping pushed PSV tx: sender not party to affected tx");
                    return Ok(false);
                }
                let theirs: BTreeSet<PublicKey> =
                    tx.payload.recipient_keys.iter().copied().collect();
                if theirs != ours {
                    return Err(ApiError::PrivacyViolation(format!(
                        "Recipients mismatched for Affected Txn {}",
                        tx.hash
                    )));
                }
            }
        }
        let invalid = self.enclave.find_invalid_security_hashes(payload, &found).await?;
        if !invalid.is_empty() {
            if payload.privacy_mode == PrivacyMode::PrivateStateValidation {
                return Err(ApiError::PrivacyViolation(format!(
                    "Invalid security hashes for Affected Txns of {hash}"
                )));
            }
            for h in invalid {
                payload.affected_contract_transactions.remove(&h);
            }
        }
        Ok(true)
    }

    /// Stores `payload`, merging its boxes into an existing row of the same hash.
    pub async fn store_or_merge(&self, payload: EncodedPayload) -> ApiResult<()> {
        let hash = payload.hash();
        let _guard = self.lock_for(&hash).lock().await;
        // Common case first: the hash is new here (one write, no read).
        match self.store.save_if_unchanged(stored_row(&payload), None).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        for _ in 0..MERGE_RETRIES {
            let existing_row = self.store.find(&hash.0).await?;
            let result = match existing_row {
                None => self.store.save_if_unchanged(stored_row(&payload), None).await,
                Some(row) => {
                    let existing = decode_row(&row)?;
                    if !immutable_fields_equal(&existing, &payload) {
                        return Err(ApiError::ConflictingPayload(hash));
                    }
                    let Some(merged) = merge(&existing, &payload) else { return Ok(()) };
                    self.store
                        .save_if_unchanged(stored_row(&merged), Some(&row.encoded_payload))
                        .await
                }
            };
            match result {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Internal(format!(
            "could not merge payload {hash}: too many concurrent writers"
        )))
    }

    /// `POST /resend` INDIVIDUAL: the payload as `key` should hold it (LEGACY bytes).
    pub async fn resend_individual(
        &self,
        key: &PublicKey,
        hash: &MessageHash,
    ) -> ApiResult<Vec<u8>> {
        let payload = self.payload(hash).await?;
        let out = self.payload_for(&payload, key).ok_or_else(|| {
            ApiError::bad(format!("{key} is not a recipient of transaction {hash}"))
        })?;
        Ok(out.encode_legacy())
    }

    fn payload_for(&self, payload: &EncodedPayload, key: &PublicKey) -> Option<EncodedPayload> {
        if payload.sender_key == *key {
            // The original sender lost its copy: give it every box we hold.
            Some(payload.clone())
        } else {
            payload.for_recipient(key)
        }
    }

    /// `POST /resend` dispatcher.
    pub async fn resend(&self, request: &ResendRequest) -> ApiResult<Option<Vec<u8>>> {
        match request.kind {
            ResendType::Individual => {
                let hash =
                    request.key.ok_or_else(|| ApiError::bad("INDIVIDUAL resend needs \"key\""))?;
                self.resend_individual(&request.public_key, &hash).await.map(Some)
            }
            ResendType::All => self.resend_all(&request.public_key).await.map(|_| None),
        }
    }

    /// Streams every payload `key` is a party to (via the recipient index), as `key` should
    /// hold it, to `sink`. Returns the count.
    async fn for_each_for_key<F, Fut>(&self, key: &PublicKey, mut sink: F) -> ApiResult<u64>
    where
        F: FnMut(Vec<EncodedPayload>) -> Fut,
        Fut: std::future::Future<Output = ApiResult<()>>,
    {
        let mut after = None;
        let mut total = 0u64;
        loop {
            let page =
                self.store.find_by_recipient(&key.0, after, self.config.resend_page_size).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.hash);
            let full =
                page.len() >= usize::try_from(self.config.resend_page_size).unwrap_or(usize::MAX);
            let mut batch = Vec::with_capacity(page.len());
            for row in &page {
                let payload = decode_row(row)?;
                if let Some(out) = self.payload_for(&payload, key) {
                    batch.push(out);
                }
            }
            total = total.saturating_add(u64::try_from(batch.len()).unwrap_or(u64::MAX));
            sink(batch).await?;
            if !full {
                break;
            }
        }
        Ok(total)
    }

    /// `POST /resend` ALL: pushes every payload `key` is a party to, to `key`'s node.
    pub async fn resend_all(&self, key: &PublicKey) -> ApiResult<u64> {
        if self.is_local(key) {
            return Err(ApiError::bad(format!(
                "{key} is a local key; resend ALL is for remote keys"
            )));
        }
        let route = self.discovery.route_or_refresh(key).await?;
        let total = self
            .for_each_for_key(key, |batch| {
                let url = route.url.clone();
                async move {
                    let results: Vec<ApiResult<()>> = stream::iter(batch)
                        .map(|p| {
                            let url = url.clone();
                            async move {
                                self.client
                                    .push(&url, p.encode_legacy())
                                    .await
                                    .map(|_| ())
                                    .map_err(|e| self.push_error(e, &url, *key))
                            }
                        })
                        .buffer_unordered(16)
                        .collect()
                        .await;
                    results.into_iter().collect::<ApiResult<Vec<()>>>().map(|_| ())
                }
            })
            .await?;
        tracing::info!(target: "qtm::tx", %key, total, "resend ALL done");
        Ok(total)
    }

    /// Recovery after data loss: asks every known node to resend (ALL) every transaction of
    /// every local key. Returns each `(node url, key, outcome)`.
    pub async fn recover_from_peers(&self) -> Vec<(String, PublicKey, Result<(), PeerError>)> {
        // A wiped node may know no peer yet: wait a few broadcast rounds for them to call in.
        let interval = self.discovery.interval();
        let deadline =
            tokio::time::Instant::now() + (interval * 3).min(std::time::Duration::from_secs(15));
        let urls = loop {
            self.discovery.refresh().await;
            let mut urls: BTreeSet<String> = self.discovery.active_urls().into_iter().collect();
            urls.extend(self.discovery.parties());
            urls.remove(self.discovery.own_url());
            if !urls.is_empty() || tokio::time::Instant::now() >= deadline {
                break urls;
            }
            tokio::time::sleep((interval / 4).max(std::time::Duration::from_millis(50))).await;
        };
        let requests: Vec<(String, PublicKey)> = urls
            .into_iter()
            .flat_map(|url| self.local_keys.iter().map(move |k| (url.clone(), *k)))
            .collect();
        let results = futures::future::join_all(requests.iter().map(|(url, key)| {
            let request = ResendRequest { kind: ResendType::All, public_key: *key, key: None };
            async move { self.client.resend(url, &request).await.map(|_| ()) }
        }))
        .await;
        requests.into_iter().zip(results).map(|((url, key), r)| (url, key, r)).collect()
    }

    /// `POST /resendBatch`: pushes every payload for `key` through `/pushBatch`.
    pub async fn resend_batch(&self, key: &PublicKey, batch_size: u32) -> ApiResult<u64> {
        let route = self.discovery.route_or_refresh(key).await?;
        let batch_size = usize::try_from(batch_size.max(1)).unwrap_or(1);
        self.for_each_for_key(key, |batch| {
            let url = route.url.clone();
            async move {
                for chunk in batch.chunks(batch_size) {
                    let encoded = chunk.iter().map(EncodedPayload::encode_legacy).collect();
                    self.client
                        .push_batch(&url, encoded)
                        .await
                        .map_err(|e| self.push_error(e, &url, *key))?;
                }
                Ok(())
            }
        })
        .await
    }
}

/// The payload a node holding `keys` receives: Tessera's `forRecipient` generalised to several
/// keys of one node (their boxes, in order; PSV keeps every key, the node's first).
pub fn for_recipients(payload: &EncodedPayload, keys: &[PublicKey]) -> Option<EncodedPayload> {
    if let [key] = keys {
        return payload.for_recipient(key);
    }
    let mut recipient_keys = Vec::with_capacity(payload.recipient_keys.len());
    let mut recipient_boxes = Vec::with_capacity(keys.len());
    for key in keys {
        let index = payload.recipient_keys.iter().position(|k| k == key)?;
        recipient_keys.push(*key);
        recipient_boxes.push(payload.recipient_boxes.get(index)?.clone());
    }
    if payload.privacy_mode == PrivacyMode::PrivateStateValidation {
        recipient_keys.extend(payload.recipient_keys.iter().filter(|k| !keys.contains(k)));
    }
    Some(EncodedPayload { recipient_keys, recipient_boxes, ..payload.clone() })
}

fn distinct_hashes(hashes: &[MessageHash]) -> Vec<MessageHash> {
    let mut seen = BTreeSet::new();
    hashes.iter().copied().filter(|h| seen.insert(*h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(keys: Vec<PublicKey>, boxes: Vec<Vec<u8>>, mode: PrivacyMode) -> EncodedPayload {
        EncodedPayload {
            sender_key: PublicKey([9; 32]),
            cipher_text: vec![1, 2, 3],
            cipher_text_nonce: vec![0; 24],
            recipient_boxes: boxes,
            recipient_nonce: vec![0; 24],
            recipient_keys: keys,
            privacy_mode: mode,
            affected_contract_transactions: BTreeMap::new(),
            exec_hash: vec![],
            mandatory_recipients: vec![],
            privacy_group_id: None,
        }
    }

    #[test]
    fn merge_prepends_new_boxes_and_ignores_known_ones() {
        let a = PublicKey([1; 32]);
        let b = PublicKey([2; 32]);
        let existing = payload(vec![a], vec![vec![10; 48]], PrivacyMode::StandardPrivate);
        let incoming = payload(vec![b], vec![vec![20; 48]], PrivacyMode::StandardPrivate);
        let merged = merge(&existing, &incoming).expect("new box");
        assert_eq!(merged.recipient_keys, vec![b, a]);
        assert_eq!(merged.recipient_boxes, vec![vec![20; 48], vec![10; 48]]);
        assert!(merge(&merged, &incoming).is_none());
        assert!(merge(&merged, &existing).is_none());
    }

    #[test]
    fn merge_psv_moves_key_to_front() {
        let a = PublicKey([1; 32]);
        let b = PublicKey([2; 32]);
        let s = PublicKey([9; 32]);
        let existing =
            payload(vec![a, b, s], vec![vec![10; 48]], PrivacyMode::PrivateStateValidation);
        let incoming =
            payload(vec![b, a, s], vec![vec![20; 48]], PrivacyMode::PrivateStateValidation);
        let merged = merge(&existing, &incoming).expect("new box");
        assert_eq!(merged.recipient_keys, vec![b, a, s]);
        assert_eq!(merged.recipient_boxes, vec![vec![20; 48], vec![10; 48]]);
    }

    #[test]
    fn for_recipients_keeps_each_nodes_boxes() {
        let (a, b, c, s) =
            (PublicKey([1; 32]), PublicKey([2; 32]), PublicKey([3; 32]), PublicKey([9; 32]));
        let boxes = vec![vec![10; 48], vec![20; 48], vec![30; 48], vec![90; 48]];
        let p = payload(vec![a, b, c, s], boxes.clone(), PrivacyMode::StandardPrivate);
        let out = for_recipients(&p, &[c, a]).expect("both are recipients");
        assert_eq!(out.recipient_keys, vec![c, a]);
        assert_eq!(out.recipient_boxes, vec![vec![30; 48], vec![10; 48]]);
        let psv = payload(vec![a, b, c, s], boxes, PrivacyMode::PrivateStateValidation);
        let out = for_recipients(&psv, &[b, c]).expect("both are recipients");
        assert_eq!(out.recipient_keys, vec![b, c, a, s]);
        assert_eq!(out.recipient_boxes, vec![vec![20; 48], vec![30; 48]]);
        assert!(for_recipients(&p, &[a, PublicKey([7; 32])]).is_none());
    }

    #[test]
    fn flags_outside_range_are_rejected() {
        assert!(parse_mode(Some(4)).is_err());
        assert!(parse_mode(Some(-1)).is_err());
        assert_eq!(parse_mode(None).ok(), Some(PrivacyMode::StandardPrivate));
        assert_eq!(parse_mode(Some(3)).ok(), Some(PrivacyMode::PrivateStateValidation));
    }
}
