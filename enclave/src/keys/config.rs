//! Tessera's `keys` configuration section ([`KeyConfiguration`]) and loading it into key pairs.
//!
//! Supported `keyData[]` sources: `privateKeyPath` + `publicKeyPath` files, inline `config`
//! (unlocked or locked key JSON) + `publicKey`, inline `privateKey` + `publicKey`. Passwords
//! come from `passwords[]` or `passwordFile` (one per line, matched to `keyData` by position;
//! blank for unlocked keys) or an inline `data.password`. Vault sources are rejected with a
//! clear error.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::file::PrivateKeyFile;
use super::{KeyError, KeyPair, PrivateKey};
use crate::types::PublicKey;

/// Tessera's `keys` object.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyConfiguration {
    /// Inline passwords, by `keyData` position.
    #[serde(default)]
    pub passwords: Option<Vec<SecretString>>,
    /// A file of passwords, one per line, by `keyData` position.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The keys.
    #[serde(default)]
    pub key_data: Vec<KeyData>,
    /// Vault configurations (not supported; kept so configs using them parse).
    #[serde(default)]
    pub key_vault_configs: Option<serde_json::Value>,
}

impl fmt::Debug for KeyConfiguration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfiguration")
            .field("passwords", &self.passwords.as_ref().map(|p| format!("<{} redacted>", p.len())))
            .field("password_file", &self.password_file)
            .field("key_data", &self.key_data)
            .finish_non_exhaustive()
    }
}

/// One `keyData[]` entry.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyData {
    /// Inline private key JSON (unlocked or locked).
    #[serde(default)]
    pub config: Option<PrivateKeyFile>,
    /// Inline base64 private key (old form).
    #[serde(default)]
    pub private_key: Option<SecretString>,
    /// Inline base64 public key.
    #[serde(default)]
    pub public_key: Option<String>,
    /// Path of the private key JSON file.
    #[serde(default)]
    pub private_key_path: Option<PathBuf>,
    /// Path of the base64 public key file.
    #[serde(default)]
    pub public_key_path: Option<PathBuf>,
    /// Any other (vault) fields.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl fmt::Debug for KeyData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyData")
            .field("config", &self.config)
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("public_key", &self.public_key)
            .field("private_key_path", &self.private_key_path)
            .field("public_key_path", &self.public_key_path)
            .field("other", &self.other.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn read_file(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.to_owned(), source })
}

/// Reads a `.pub` file (one base64 line).
pub fn read_public_key_file(path: &Path) -> Result<PublicKey, KeyError> {
    parse_public_key(&read_file(path)?, &path.display().to_string())
}

fn parse_public_key(text: &str, origin: &str) -> Result<PublicKey, KeyError> {
    text.trim().parse().map_err(|source| KeyError::Parse { origin: origin.to_owned(), source })
}

/// Reads and unlocks a `.key` file.
pub fn read_private_key_file(
    path: &Path,
    password: Option<&SecretString>,
) -> Result<PrivateKey, KeyError> {
    let origin = path.display().to_string();
    let json = zeroize::Zeroizing::new(read_file(path)?);
    PrivateKeyFile::parse(&json, &origin)?.unlock(password, &origin)
}

impl KeyConfiguration {
    /// The password for `keyData[index]`, if any (empty lines mean "no password").
    fn passwords(&self) -> Result<Vec<Option<SecretString>>, KeyError> {
        if let Some(passwords) = &self.passwords {
            return Ok(passwords
                .iter()
                .map(|p| (!p.expose_secret().is_empty()).then(|| p.clone()))
                .collect());
        }
        if let Some(path) = &self.password_file {
            let text = zeroize::Zeroizing::new(read_file(path)?);
            return Ok(text
                .lines()
                .map(|line| (!line.is_empty()).then(|| SecretString::from(line)))
                .collect());
        }
        Ok(Vec::new())
    }

    /// Loads and unlocks every configured key (see [`load_key_pairs`]).
    pub fn load(&self) -> Result<Vec<KeyPair>, KeyError> {
        let passwords = self.passwords()?;
        self.key_data
            .iter()
            .enumerate()
            .map(|(index, data)| {
                let password = passwords.get(index).and_then(Option::as_ref);
                data.load(index, password)
            })
            .collect()
    }
}

/// Loads and unlocks every key of a Tessera `keys` section, checking each configured public key
/// against its private key.
pub fn load_key_pairs(config: &KeyConfiguration) -> Result<Vec<KeyPair>, KeyError> {
    config.load()
}

impl KeyData {
    fn load(&self, index: usize, password: Option<&SecretString>) -> Result<KeyPair, KeyError> {
        if let Some(vault_field) =
            self.other.keys().find(|k| k.contains("Vault") || k.starts_with("aws"))
        {
            return Err(KeyError::UnsupportedSource {
                index,
                reason: format!("vault key source `{vault_field}`"),
            });
        }
        let origin = format!("keyData[{index}]");
        let (private, origin) = if let Some(path) = &self.private_key_path {
            (read_private_key_file(path, password)?, path.display().to_string())
        } else if let Some(config) = &self.config {
            (config.unlock(password, &origin)?, origin)
        } else if let Some(inline) = &self.private_key {
            let json = zeroize::Zeroizing::new(format!(
                r#"{{"type":"unlocked","data":{{"bytes":{}}}}}"#,
                serde_json::Value::String(inline.expose_secret().to_owned())
            ));
            (PrivateKeyFile::parse(&json, &origin)?.unlock(None, &origin)?, origin)
        } else {
            return Err(KeyError::Incomplete { index, reason: "no private key source" });
        };
        let derived = private.public_key();
        let configured = if let Some(path) = &self.public_key_path {
            Some(read_public_key_file(path)?)
        } else if let Some(text) = &self.public_key {
            Some(parse_public_key(text, &origin)?)
        } else {
            None
        };
        match configured {
            Some(configured) if configured != derived => {
                Err(KeyError::PublicKeyMismatch { origin, configured, derived })
            }
            _ => Ok(KeyPair { public: derived, private }),
        }
    }
}
