//! Peer discovery through PartyInfo, with Tessera's key-to-URL binding rules.
//!
//! * A node's keys are accepted only from that node itself: a PartyInfo received from URL `U`
//!   (or the `GET /partyinfo` answer fetched from `U`) binds only the keys it claims for `U`.
//!   Keys claimed for other URLs are ignored; those URLs go into the party store and are asked
//!   directly.
//! * With remote key validation (qtm's default), every new `(key, url)` claim is challenged
//!   through `url/partyinfo/validate` before it is bound.
//! * An unknown recipient key triggers [`Discovery::refresh`] (ask every known node now)
//!   instead of failing straight away.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
    time::Duration,
};

use futures::future::join_all;
use parking_lot::RwLock;
use qrs_enclave::{Enclave, PrivacyMetadata, PublicKey};
use url::Url;

use crate::{
    client::PeerClient,
    error::ApiError,
    partyinfo::{PartyInfoMessage, PartyRecipient},
};

/// Normalizes a node URL the way Tessera's `NodeUri` does (always ends with `/`).
pub fn normalize_url(url: &str) -> Option<String> {
    let parsed = Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return None;
    }
    let mut s = parsed.to_string();
    if !s.ends_with('/') {
        s.push('/');
    }
    Some(s)
}

/// A node this one has heard from directly.
#[derive(Debug, Clone, Default)]
pub struct ActiveNode {
    /// Keys bound to this node.
    pub keys: BTreeSet<PublicKey>,
    /// Raw API versions the node advertised.
    pub versions: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    /// URLs to poll (Tessera's PartyStore).
    parties: BTreeSet<String>,
    /// Nodes heard from directly (Tessera's NetworkStore).
    nodes: BTreeMap<String, ActiveNode>,
    /// Key → URL of the node holding it.
    key_owner: HashMap<PublicKey, String>,
}

/// Discovery settings.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// This node's P2P URL (normalized).
    pub own_url: String,
    /// Configured peers (normalized).
    pub peers: Vec<String>,
    /// Only talk to configured peers.
    pub disable_peer_discovery: bool,
    /// Challenge claimed keys through `/partyinfo/validate`.
    pub validate_keys: bool,
    /// Broadcast interval.
    pub interval: Duration,
}

/// Where a recipient key lives.
#[derive(Debug, Clone)]
pub struct Route {
    /// The node URL.
    pub url: String,
    /// Its advertised API versions.
    pub versions: Vec<String>,
}

/// The node's view of the network.
#[derive(Debug)]
pub struct Discovery {
    config: DiscoveryConfig,
    local_keys: Vec<PublicKey>,
    enclave: Arc<dyn Enclave>,
    client: PeerClient,
    state: RwLock<State>,
    refresh_lock: tokio::sync::Mutex<()>,
}

impl Discovery {
    /// Creates the discovery state, seeded with the configured peers.
    pub fn new(
        config: DiscoveryConfig,
        local_keys: Vec<PublicKey>,
        enclave: Arc<dyn Enclave>,
        client: PeerClient,
    ) -> Self {
        let mut state = State::default();
        state.parties.extend(config.peers.iter().filter(|p| **p != config.own_url).cloned());
        Self {
            config,
            local_keys,
            enclave,
            client,
            state: RwLock::new(state),
            refresh_lock: Default::default(),
        }
    }

    /// This node's URL.
    pub fn own_url(&self) -> &str {
        &self.config.own_url
    }

    /// The broadcast interval.
    pub fn interval(&self) -> Duration {
        self.config.interval
    }

    /// Local keys.
    pub fn local_keys(&self) -> &[PublicKey] {
        &self.local_keys
    }

    /// The node that holds `key`, if known.
    pub fn route(&self, key: &PublicKey) -> Option<Route> {
        let state = self.state.read();
        let url = state.key_owner.get(key)?;
        let versions = state.nodes.get(url).map(|n| n.versions.clone()).unwrap_or_default();
        Some(Route { url: url.clone(), versions })
    }

    /// Resolves `key`, refreshing party info from every known node once if it is unknown.
    pub async fn route_or_refresh(&self, key: &PublicKey) -> Result<Route, ApiError> {
        if let Some(route) = self.route(key) {
            return Ok(route);
        }
        tracing::info!(target: "qtm::discovery", %key, "unknown recipient key, refreshing party info");
        self.refresh().await;
        self.route(key).ok_or(ApiError::RecipientNotFound(*key))
    }

    /// Every key known in the network, local keys first.
    pub fn all_keys(&self) -> Vec<PublicKey> {
        let state = self.state.read();
        let mut keys = self.local_keys.clone();
        let mut remote: Vec<PublicKey> =
            state.key_owner.keys().filter(|k| !self.local_keys.contains(k)).copied().collect();
        remote.sort();
        keys.extend(remote);
        keys
    }

    /// `(key, url)` for every known key (local keys with the own URL).
    pub fn key_urls(&self) -> Vec<(PublicKey, String)> {
        let state = self.state.read();
        let mut out: Vec<_> =
            self.local_keys.iter().map(|k| (*k, self.config.own_url.clone())).collect();
        let mut remote: Vec<_> = state.key_owner.iter().map(|(k, u)| (*k, u.clone())).collect();
        remote.sort();
        out.extend(remote);
        out
    }

    /// Every URL in the party store.
    pub fn parties(&self) -> Vec<String> {
        self.state.read().parties.iter().cloned().collect()
    }

    /// URLs of nodes heard from directly.
    pub fn active_urls(&self) -> Vec<String> {
        self.state.read().nodes.keys().cloned().collect()
    }

    /// This node's PartyInfo: own keys, and every URL it knows.
    pub fn own_party_info(&self) -> PartyInfoMessage {
        let state = self.state.read();
        let mut parties: BTreeSet<String> = state.parties.clone();
        parties.extend(state.nodes.keys().cloned());
        parties.insert(self.config.own_url.clone());
        PartyInfoMessage {
            url: self.config.own_url.clone(),
            recipients: self
                .local_keys
                .iter()
                .map(|k| PartyRecipient { key: k.0.to_vec(), url: self.config.own_url.clone() })
                .collect(),
            parties: parties.into_iter().collect(),
        }
    }

    /// The reply to a `POST /partyinfo`: only this node's URL (Tessera's pre-0.10 compatible answer).
    pub fn reply_party_info(&self) -> PartyInfoMessage {
        PartyInfoMessage { url: self.config.own_url.clone(), recipients: vec![], parties: vec![] }
    }

    fn is_configured_peer(&self, url: &str) -> bool {
        self.config.peers.iter().any(|p| p == url)
    }

    /// Handles a PartyInfo received from a node (`POST /partyinfo`).
    pub async fn on_party_info(
        &self,
        msg: PartyInfoMessage,
        versions: Vec<String>,
    ) -> Result<(), ApiError> {
        let sender = normalize_url(&msg.url).ok_or_else(|| {
            ApiError::bad(format!("PartyInfo url {:?} is not an http(s) URL", msg.url))
        })?;
        if sender == self.config.own_url {
            return Ok(());
        }
        if self.config.disable_peer_discovery && !self.is_configured_peer(&sender) {
            return Err(ApiError::NotSupported(format!(
                "Peer discovery is disabled and {sender} is not a configured peer"
            )));
        }
        let claimed: Vec<PublicKey> = msg
            .recipients
            .iter()
            .filter(|r| normalize_url(&r.url).as_deref() == Some(sender.as_str()))
            .filter_map(|r| PublicKey::from_slice(&r.key).ok())
            .collect();
        let accepted = self.accept_claims(&sender, claimed, versions).await?;
        if !self.config.disable_peer_discovery {
            let mut state = self.state.write();
            for party in msg.parties.iter().filter_map(|p| normalize_url(p)) {
                if party != self.config.own_url {
                    state.parties.insert(party);
                }
            }
            state.parties.insert(sender.clone());
        }
        tracing::debug!(target: "qtm::discovery", url = %sender, keys = accepted, "party info received");
        Ok(())
    }

    /// Binds the keys `url` claims for itself (after validation when enabled); replaces the
    /// node's previous key set. Returns how many keys are bound.
    async fn accept_claims(
        &self,
        url: &str,
        claimed: Vec<PublicKey>,
        versions: Vec<String>,
    ) -> Result<usize, ApiError> {
        let claimed: BTreeSet<PublicKey> =
            claimed.into_iter().filter(|k| !self.local_keys.contains(k)).collect();
        let to_check: Vec<PublicKey> = {
            let state = self.state.read();
            claimed
                .iter()
                .filter(|k| state.key_owner.get(*k).map(String::as_str) != Some(url))
                .copied()
                .collect()
        };
        let mut rejected = BTreeSet::new();
        if self.config.validate_keys && !to_check.is_empty() {
            let results = join_all(to_check.iter().map(|k| self.validate_key(url, *k))).await;
            for (key, ok) in to_check.iter().zip(results) {
                if !ok {
                    tracing::warn!(target: "qtm::discovery", %url, %key, "key failed remote validation; ignored");
                    rejected.insert(*key);
                }
            }
            if rejected.len() == claimed.len() && !claimed.is_empty() {
                return Err(ApiError::PrivacyViolation(format!(
                    "No key claimed by {url} passed remote key validation"
                )));
            }
        }
        let accepted: BTreeSet<PublicKey> = claimed.difference(&rejected).copied().collect();
        let mut state = self.state.write();
        let previous = state.nodes.remove(url).map(|n| n.keys).unwrap_or_default();
        for key in previous.difference(&accepted) {
            if state.key_owner.get(key).map(String::as_str) == Some(url) {
                state.key_owner.remove(key);
            }
        }
        for key in &accepted {
            let current = state.key_owner.get(key).cloned();
            match current {
                Some(other) if other != url && !self.config.validate_keys => {
                    // Without validation a key never moves away from a live owner.
                    tracing::warn!(target: "qtm::discovery", %key, owner = %other, claimant = %url, "key already bound to another node; ignored");
                }
                Some(other) if other != url => {
                    if let Some(node) = state.nodes.get_mut(&other) {
                        node.keys.remove(key);
                    }
                    state.key_owner.insert(*key, url.to_owned());
                }
                _ => {
                    state.key_owner.insert(*key, url.to_owned());
                }
            }
        }
        let keys: BTreeSet<PublicKey> = accepted
            .into_iter()
            .filter(|k| state.key_owner.get(k).map(String::as_str) == Some(url))
            .collect();
        let count = keys.len();
        state.nodes.insert(url.to_owned(), ActiveNode { keys, versions });
        Ok(count)
    }

    /// Challenges `url` to prove it holds the private key of `key`.
    async fn validate_key(&self, url: &str, key: PublicKey) -> bool {
        let challenge = uuid::Uuid::new_v4().to_string();
        let result: Result<bool, String> = async {
            let sender = self.enclave.default_public_key().await.map_err(|e| e.to_string())?;
            let payload = self
                .enclave
                .encrypt_payload(challenge.as_bytes(), sender, &[key], &PrivacyMetadata::standard())
                .await
                .map_err(|e| e.to_string())?;
            let payload = payload.for_recipient(&key).ok_or("recipient box missing")?;
            let answer = self
                .client
                .validate(url, payload.encode_legacy())
                .await
                .map_err(|e| e.to_string())?;
            Ok(answer == challenge)
        }
        .await;
        match result {
            Ok(ok) => ok,
            Err(reason) => {
                tracing::warn!(target: "qtm::discovery", %url, %key, %reason, "key validation failed");
                false
            }
        }
    }

    /// Forgets a node that could not be reached (configured peers stay in the party store).
    pub fn forget(&self, url: &str) {
        let mut state = self.state.write();
        if let Some(node) = state.nodes.remove(url) {
            for key in node.keys {
                if state.key_owner.get(&key).map(String::as_str) == Some(url) {
                    state.key_owner.remove(&key);
                }
            }
        }
        if !self.is_configured_peer(url) {
            state.parties.remove(url);
        }
    }

    /// One broadcast round: POST our PartyInfo to every known node.
    pub async fn broadcast(&self) {
        let targets: Vec<String> = {
            let state = self.state.read();
            let mut t: BTreeSet<String> = state.parties.clone();
            t.extend(state.nodes.keys().cloned());
            t.remove(&self.config.own_url);
            t.into_iter().collect()
        };
        let body = self.own_party_info().encode();
        let results =
            join_all(targets.iter().map(|url| self.client.send_party_info(url, body.clone())))
                .await;
        for (url, result) in targets.iter().zip(results) {
            match result {
                Ok(_) => {}
                Err(e) if e.is_unreachable() => {
                    tracing::debug!(target: "qtm::discovery", %url, error = %e, "node unreachable; forgetting it");
                    self.forget(url);
                }
                Err(e) => {
                    tracing::debug!(target: "qtm::discovery", %url, error = %e, "party info rejected")
                }
            }
        }
    }

    /// Asks every known node for its keys now (announces ourselves, then reads `GET /partyinfo`
    /// and binds the keys each node claims for itself). Concurrent callers share one refresh.
    pub async fn refresh(&self) {
        let Ok(_guard) = self.refresh_lock.try_lock() else {
            // Another refresh is running: wait for it instead of starting a second one.
            let _wait = self.refresh_lock.lock().await;
            return;
        };
        self.broadcast().await;
        let targets: Vec<String> = {
            let state = self.state.read();
            let mut t: BTreeSet<String> = state.parties.clone();
            t.extend(state.nodes.keys().cloned());
            t.remove(&self.config.own_url);
            t.into_iter().collect()
        };
        join_all(targets.iter().map(|url| self.refresh_from(url))).await;
    }

    async fn refresh_from(&self, url: &str) {
        let (info, versions) = match self.client.get_party_info(url).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::debug!(target: "qtm::discovery", %url, error = %e, "GET /partyinfo failed");
                return;
            }
        };
        let claimed: Vec<PublicKey> = info
            .keys
            .iter()
            .filter(|k| normalize_url(&k.url).as_deref() == Some(url))
            .map(|k| k.key)
            .collect();
        let versions = if versions.is_empty() {
            self.state.read().nodes.get(url).map(|n| n.versions.clone()).unwrap_or_default()
        } else {
            versions
        };
        if let Err(e) = self.accept_claims(url, claimed, versions).await {
            tracing::warn!(target: "qtm::discovery", %url, error = %e, "keys from GET /partyinfo rejected");
        }
        if !self.config.disable_peer_discovery {
            let mut state = self.state.write();
            for peer in info.peers.iter().filter_map(|p| normalize_url(&p.url)) {
                if peer != self.config.own_url {
                    state.parties.insert(peer);
                }
            }
        }
    }

    /// Runs the periodic broadcast forever.
    pub async fn run(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.config.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.broadcast().await;
        }
    }
}
