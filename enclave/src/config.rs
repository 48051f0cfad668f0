//! Enclave configuration: the [`CryptoSuite`], forwarding keys, and the parts of a Tessera
//! config file the enclave reads ([`TesseraConfig`]).

use std::path::Path;

use serde::Deserialize;

use crate::keys::{KeyConfiguration, KeyError, KeyPair};
use crate::types::PublicKey;

/// Payload encryption suite.
///
/// Both seal a random 32-byte master key per recipient under one 24-byte recipient nonce and
/// the payload under the master key with a 24-byte nonce, so payloads have the same shape and
/// the LEGACY codec carries either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
pub enum CryptoSuite {
    /// Tessera's NaCl suite: `crypto_box` (X25519 + HSalsa20 + XSalsa20-Poly1305) and
    /// `crypto_secretbox`. Wire compatible with Tessera.
    #[default]
    #[serde(rename = "NACL")]
    Nacl,
    /// X25519, HKDF-SHA256 and XChaCha20-Poly1305. Only readable by quorum-rs enclaves.
    #[serde(rename = "X25519_CHACHA20POLY1305")]
    X25519ChaCha20Poly1305,
}

/// Everything a [`LocalEnclave`](crate::LocalEnclave) needs.
#[derive(Debug, Clone, Default)]
pub struct EnclaveConfig {
    /// Key pairs; the first is the default key.
    pub keys: Vec<KeyPair>,
    /// Keys added to every transaction (`alwaysSendTo`).
    pub forwarding_keys: Vec<PublicKey>,
    /// Suite used to encrypt (decryption accepts both suites).
    pub suite: CryptoSuite,
}

/// Why a Tessera config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid config.
    #[error("invalid config file {path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// The config has neither keys nor a remote enclave.
    #[error("the config has no keys (and no ENCLAVE serverConfig with a serverAddress)")]
    NoKeys,
    /// The encryptor type is not supported.
    #[error("unsupported encryptor type {0} (supported: NACL, X25519_CHACHA20POLY1305)")]
    UnsupportedEncryptor(String),
    /// Loading keys failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The enclave could not be created.
    #[error(transparent)]
    Enclave(#[from] crate::EnclaveError),
}

/// `encryptor` section.
#[derive(Debug, Clone, Deserialize)]
pub struct EncryptorConfig {
    /// `NACL` (Tessera), `X25519_CHACHA20POLY1305` (quorum-rs), others unsupported.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One `serverConfigs[]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerConfig {
    /// `Q2T`, `P2P`, `ThirdParty`, `ADMIN` or `ENCLAVE`.
    pub app: String,
    /// Whether it is enabled (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Advertised address, e.g. `http://localhost:9081`.
    #[serde(default)]
    pub server_address: Option<String>,
    /// Optional bind address.
    #[serde(default)]
    pub binding_address: Option<String>,
}

/// The parts of a Tessera config file the enclave uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TesseraConfig {
    /// Keys.
    #[serde(default)]
    pub keys: Option<KeyConfiguration>,
    /// Forwarding keys.
    #[serde(default)]
    pub always_send_to: Vec<PublicKey>,
    /// Servers.
    #[serde(default)]
    pub server_configs: Vec<ServerConfig>,
    /// Encryptor.
    #[serde(default)]
    pub encryptor: Option<EncryptorConfig>,
}

impl TesseraConfig {
    /// Reads a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: shown.clone(), source })?;
        serde_json::from_str(&text).map_err(|source| ConfigError::Json { path: shown, source })
    }

    /// The configured suite.
    pub fn suite(&self) -> Result<CryptoSuite, ConfigError> {
        match self.encryptor.as_ref().map(|e| e.kind.as_str()) {
            None | Some("NACL") => Ok(CryptoSuite::Nacl),
            Some("X25519_CHACHA20POLY1305") => Ok(CryptoSuite::X25519ChaCha20Poly1305),
            Some(other) => Err(ConfigError::UnsupportedEncryptor(other.to_owned())),
        }
    }

    /// The enabled `ENCLAVE` server entry, if any.
    pub fn enclave_server(&self) -> Option<&ServerConfig> {
        self.server_configs
            .iter()
            .find(|s| s.app.eq_ignore_ascii_case("ENCLAVE") && s.enabled != Some(false))
    }

    /// The enclave a transaction manager with this config uses: in-process when the config has
    /// keys, else the remote enclave named by the `ENCLAVE` serverConfig (Tessera's rule).
    /// Loading locked keys runs Argon2 (up to 1 GiB, seconds): call it outside async tasks or
    /// in `spawn_blocking`.
    #[cfg(feature = "remote")]
    pub fn build_enclave(&self) -> Result<std::sync::Arc<dyn crate::Enclave>, ConfigError> {
        let has_keys = self.keys.as_ref().is_some_and(|k| !k.key_data.is_empty());
        if has_keys {
            return Ok(std::sync::Arc::new(crate::LocalEnclave::new(self.enclave_config()?)?));
        }
        let address = self
            .enclave_server()
            .and_then(|s| s.server_address.clone())
            .ok_or(ConfigError::NoKeys)?;
        Ok(std::sync::Arc::new(crate::RemoteEnclave::new(&address)?))
    }

    /// Loads keys and builds the enclave configuration.
    pub fn enclave_config(&self) -> Result<EnclaveConfig, ConfigError> {
        let keys = self.keys.as_ref().ok_or(ConfigError::NoKeys)?.load()?;
        Ok(EnclaveConfig {
            keys,
            forwarding_keys: self.always_send_to.clone(),
            suite: self.suite()?,
        })
    }
}
