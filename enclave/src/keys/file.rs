//! Tessera / Constellation private key JSON: `{"type":"unlocked","data":{"bytes":...}}` and
//! `{"type":"argon2sbox","data":{"aopts":{...},"snonce":...,"asalt":...,"sbox":...}}`.
//!
//! Locked keys: `key = Argon2<variant, version>(password, asalt, t, m KiB, p, 32 bytes)`, then
//! `private = crypto_secretbox_open(sbox, snonce, key)`. Every variant (`i`, `d`, `id`) and
//! version (`"1.0"` = 0x10, `"1.3"` = 0x13, the default when absent) is supported.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KeyError, PrivateKey};
use crate::types::ParseError;

/// An Argon2 variant as written in `aopts.variant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArgonVariant {
    /// Argon2i.
    #[serde(rename = "i")]
    I,
    /// Argon2d.
    #[serde(rename = "d")]
    D,
    /// Argon2id.
    #[serde(rename = "id")]
    Id,
}

/// An Argon2 version as written in `aopts.version` (absent means 1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ArgonVersion {
    /// Version 0x10.
    #[serde(rename = "1.0")]
    V10,
    /// Version 0x13.
    #[default]
    #[serde(rename = "1.3")]
    V13,
}

/// `aopts`: the Argon2 options of a locked key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgonOptions {
    /// The variant.
    pub variant: ArgonVariant,
    /// Memory in KiB.
    pub memory: u32,
    /// Iterations (time cost).
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Version (Constellation writes it; Tessera omits it and uses 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<ArgonVersion>,
}

impl ArgonOptions {
    /// Tessera's documented defaults: Argon2id, 1 GiB, 10 iterations, 4 lanes.
    pub const TESSERA_DEFAULT: ArgonOptions = ArgonOptions {
        variant: ArgonVariant::Id,
        memory: 1_048_576,
        iterations: 10,
        parallelism: 4,
        version: None,
    };

    /// Largest accepted Argon2 memory (4 GiB; Tessera's default is 1 GiB): a larger value in a
    /// key file fails with an error instead of aborting on allocation.
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;

    fn derive_key(
        &self,
        password: &SecretString,
        salt: &[u8],
        origin: &str,
    ) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        if self.memory > Self::MAX_MEMORY_KIB {
            return Err(KeyError::Argon2 {
                origin: origin.to_owned(),
                reason: format!(
                    "memory {} KiB exceeds the {} KiB limit",
                    self.memory,
                    Self::MAX_MEMORY_KIB
                ),
            });
        }
        let argon_error = |e: argon2::Error| KeyError::Argon2 {
            origin: origin.to_owned(),
            reason: e.to_string(),
        };
        let params = argon2::Params::new(self.memory, self.iterations, self.parallelism, Some(32))
            .map_err(argon_error)?;
        let algorithm = match self.variant {
            ArgonVariant::I => argon2::Algorithm::Argon2i,
            ArgonVariant::D => argon2::Algorithm::Argon2d,
            ArgonVariant::Id => argon2::Algorithm::Argon2id,
        };
        let version = match self.version.unwrap_or_default() {
            ArgonVersion::V10 => argon2::Version::V0x10,
            ArgonVersion::V13 => argon2::Version::V0x13,
        };
        let mut key = Zeroizing::new([0u8; 32]);
        argon2::Argon2::new(algorithm, version, params)
            .hash_password_into(password.expose_secret().as_bytes(), salt, key.as_mut())
            .map_err(argon_error)?;
        Ok(key)
    }
}

/// `data` of a locked key.
#[derive(Clone, Serialize, Deserialize)]
pub struct LockedKeyData {
    /// Argon2 options.
    pub aopts: ArgonOptions,
    /// Secretbox nonce (base64, 24 bytes).
    pub snonce: String,
    /// Argon2 salt (base64).
    pub asalt: String,
    /// The sealed private key (base64, 48 bytes).
    pub sbox: String,
    /// Inline password (old Tessera configs); never written.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
}

impl fmt::Debug for LockedKeyData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockedKeyData")
            .field("aopts", &self.aopts)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// `data` of an unlocked key.
#[derive(Clone, Deserialize)]
pub struct UnlockedKeyData {
    /// The private key in base64.
    pub bytes: SecretString,
}

impl fmt::Debug for UnlockedKeyData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnlockedKeyData(<redacted>)")
    }
}

/// A private key file (or a `keyData[].config` object).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum PrivateKeyFile {
    /// Plain base64 private key.
    #[serde(rename = "unlocked")]
    Unlocked(UnlockedKeyData),
    /// Argon2 + secretbox locked private key.
    #[serde(rename = "argon2sbox")]
    Locked(LockedKeyData),
}

fn decode_b64(origin: &str, what: &'static str, text: &str) -> Result<Vec<u8>, KeyError> {
    STANDARD.decode(text.trim()).map_err(|source| KeyError::Parse {
        origin: origin.to_owned(),
        source: ParseError::Base64 { what, source },
    })
}

fn fixed<const N: usize>(
    origin: &str,
    what: &'static str,
    bytes: &[u8],
) -> Result<[u8; N], KeyError> {
    <[u8; N]>::try_from(bytes).map_err(|_| KeyError::Parse {
        origin: origin.to_owned(),
        source: ParseError::Length { what, expected: N, actual: bytes.len() },
    })
}

impl PrivateKeyFile {
    /// Parses key JSON; `origin` names the source in errors.
    pub fn parse(json: &str, origin: &str) -> Result<Self, KeyError> {
        serde_json::from_str(json)
            .map_err(|source| KeyError::Json { origin: origin.to_owned(), source })
    }

    /// Whether a password is needed.
    pub fn is_locked(&self) -> bool {
        matches!(self, Self::Locked(_))
    }

    /// Opens the key. `password` is needed for locked keys (an inline `data.password` is used
    /// when `password` is `None`).
    pub fn unlock(
        &self,
        password: Option<&SecretString>,
        origin: &str,
    ) -> Result<PrivateKey, KeyError> {
        match self {
            Self::Unlocked(data) => {
                let bytes =
                    Zeroizing::new(decode_b64(origin, "private key", data.bytes.expose_secret())?);
                Ok(PrivateKey::from_bytes(fixed(origin, "private key", &bytes)?))
            }
            Self::Locked(data) => {
                let password = password
                    .or(data.password.as_ref())
                    .ok_or_else(|| KeyError::PasswordRequired { origin: origin.to_owned() })?;
                let salt = decode_b64(origin, "asalt", &data.asalt)?;
                let nonce: [u8; 24] =
                    fixed(origin, "snonce", &decode_b64(origin, "snonce", &data.snonce)?)?;
                let sbox = decode_b64(origin, "sbox", &data.sbox)?;
                let key = data.aopts.derive_key(password, &salt, origin)?;
                let opened = XSalsa20Poly1305::new(key.as_ref().into())
                    .decrypt(&nonce.into(), sbox.as_slice())
                    .map(Zeroizing::new)
                    .map_err(|_| KeyError::WrongPassword { origin: origin.to_owned() })?;
                Ok(PrivateKey::from_bytes(fixed(origin, "private key", &opened)?))
            }
        }
    }

    /// Serializes `key` as an unlocked key file.
    pub fn unlocked_json(key: &PrivateKey) -> Zeroizing<String> {
        let bytes = Zeroizing::new(STANDARD.encode(key.expose()));
        // Base64 never needs JSON escaping.
        Zeroizing::new(format!(r#"{{"type":"unlocked","data":{{"bytes":"{}"}}}}"#, bytes.as_str()))
    }

    /// Locks `key` with `password` (random salt and nonce) and serializes it.
    pub fn locked_json(
        key: &PrivateKey,
        password: &SecretString,
        options: &ArgonOptions,
    ) -> Result<String, KeyError> {
        let mut salt = [0u8; 32];
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let derived = options.derive_key(password, &salt, "new key")?;
        let sbox = XSalsa20Poly1305::new(derived.as_ref().into())
            .encrypt(&nonce.into(), key.expose().as_slice())
            .map_err(|_| KeyError::Argon2 {
                origin: "new key".to_owned(),
                reason: "sealing failed".to_owned(),
            })?;
        let data = LockedKeyData {
            aopts: *options,
            snonce: STANDARD.encode(nonce),
            asalt: STANDARD.encode(salt),
            sbox: STANDARD.encode(sbox),
            password: None,
        };
        #[derive(Serialize)]
        struct LockedFile<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            data: &'a LockedKeyData,
        }
        serde_json::to_string(&LockedFile { kind: "argon2sbox", data: &data })
            .map_err(|source| KeyError::Json { origin: "new key".to_owned(), source })
    }
}
