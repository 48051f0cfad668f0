//! geth's v3 key file (Web3 Secret Storage): scrypt or PBKDF2, AES-128-CTR, Keccak-256 MAC.
//!
//! - `derived = KDF(password, salt)` (32 bytes);
//! - `ciphertext = AES-128-CTR(key = derived[0..16], iv, private key)`;
//! - `mac = keccak256(derived[16..32] ‖ ciphertext)`; a mismatch means a wrong password.
//!
//! Files are written exactly like geth: compact JSON with fields in geth's order, `kdfparams`
//! keys sorted (Go marshals maps sorted), lower-case hex without `0x`, UUID v4 `id`.

use aes::cipher::{KeyIvInit, StreamCipher};
use alloy_primitives::{Address, keccak256};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::kdf::{self, DKLEN, Pbkdf2Params, SCRYPT_R, ScryptCost, ScryptParams};
use crate::{KeystoreError, PrivateKey};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// The only cipher geth writes and reads.
pub const CIPHER: &str = "aes-128-ctr";

/// A v3 key file as stored on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Lower-case hex address without `0x` (may be absent in foreign files).
    #[serde(default)]
    pub address: String,
    /// The encrypted key (`Crypto` is accepted too, as Go matches keys case-insensitively).
    #[serde(alias = "Crypto")]
    pub crypto: CryptoJson,
    /// UUID.
    #[serde(default)]
    pub id: String,
    /// Must be 3. (A JSON string here marks a v1 file, which is not supported.)
    pub version: serde_json::Value,
}

/// The `crypto` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CryptoJson {
    /// `aes-128-ctr`.
    pub cipher: String,
    /// Hex ciphertext.
    pub ciphertext: String,
    /// `{ "iv": hex }`.
    pub cipherparams: CipherParams,
    /// `scrypt` or `pbkdf2`.
    pub kdf: String,
    /// Parameters of `kdf`.
    pub kdfparams: serde_json::Value,
    /// Hex Keccak-256 MAC.
    pub mac: String,
}

/// `crypto.cipherparams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CipherParams {
    /// Hex 16-byte IV.
    pub iv: String,
}

impl KeyFile {
    /// Parses a key file's JSON.
    pub fn from_json(json: &str) -> Result<Self, KeystoreError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Compact JSON as geth writes it.
    pub fn to_json(&self) -> Result<String, KeystoreError> {
        Ok(serde_json::to_string(self)?)
    }

    /// The address recorded in the file, if it parses.
    pub fn recorded_address(&self) -> Option<Address> {
        let hex = self.address.strip_prefix("0x").unwrap_or(&self.address);
        let bytes = hex::decode(hex).ok()?;
        (bytes.len() == 20).then(|| Address::from_slice(&bytes))
    }

    /// Encrypts `key` with `password` using scrypt at the given cost.
    pub fn encrypt_scrypt(
        key: &PrivateKey,
        password: &str,
        cost: ScryptCost,
    ) -> Result<Self, KeystoreError> {
        let (n, p) = cost.n_p();
        let params = ScryptParams {
            dklen: DKLEN,
            n,
            p,
            r: SCRYPT_R,
            salt: hex::encode(random_bytes::<32>()),
        };
        let derived = kdf::scrypt_key(password.as_bytes(), &params)?;
        Self::seal(key, &derived, "scrypt", serde_json::to_value(params)?)
    }

    /// Encrypts `key` with `password` using PBKDF2-HMAC-SHA256 with `rounds` iterations.
    pub fn encrypt_pbkdf2(
        key: &PrivateKey,
        password: &str,
        rounds: u32,
    ) -> Result<Self, KeystoreError> {
        let params = Pbkdf2Params {
            c: rounds,
            dklen: DKLEN,
            prf: "hmac-sha256".to_owned(),
            salt: hex::encode(random_bytes::<32>()),
        };
        let derived = kdf::pbkdf2_key(password.as_bytes(), &params)?;
        Self::seal(key, &derived, "pbkdf2", serde_json::to_value(params)?)
    }

    fn seal(
        key: &PrivateKey,
        derived: &[u8],
        kdf: &str,
        kdfparams: serde_json::Value,
    ) -> Result<Self, KeystoreError> {
        let iv = random_bytes::<16>();
        let (enc_key, mac_key) = split_derived(derived)?;
        let mut ciphertext = key.expose_secret().to_vec();
        aes_ctr(enc_key, &iv, &mut ciphertext)?;
        let mac = keccak256([mac_key, ciphertext.as_slice()].concat());
        Ok(Self {
            address: hex::encode(key.address()),
            crypto: CryptoJson {
                cipher: CIPHER.to_owned(),
                ciphertext: hex::encode(&ciphertext),
                cipherparams: CipherParams { iv: hex::encode(iv) },
                kdf: kdf.to_owned(),
                kdfparams,
                mac: hex::encode(mac),
            },
            id: uuid::Uuid::new_v4().to_string(),
            version: serde_json::Value::from(3u64),
        })
    }

    /// Decrypts the key (geth `DecryptKey`). A wrong password gives [`KeystoreError::Decrypt`].
    ///
    /// The address recorded in the file is not checked here; [`crate::Keystore`] checks it.
    pub fn decrypt(&self, password: &str) -> Result<PrivateKey, KeystoreError> {
        match self.version.as_u64() {
            Some(3) => {}
            Some(other) => return Err(KeystoreError::UnsupportedVersion(other)),
            None => return Err(KeystoreError::UnsupportedVersion(1)),
        }
        let c = &self.crypto;
        if c.cipher != CIPHER {
            return Err(KeystoreError::UnsupportedCipher(c.cipher.clone()));
        }
        let mac = hex_field(&c.mac, "mac")?;
        let iv = hex_field(&c.cipherparams.iv, "iv")?;
        let mut plain = Zeroizing::new(hex_field(&c.ciphertext, "ciphertext")?);
        let derived = self.derive(password)?;
        let (enc_key, mac_key) = split_derived(&derived)?;
        let expected = keccak256([mac_key, plain.as_slice()].concat());
        if !constant_time_eq(expected.as_slice(), &mac) {
            return Err(KeystoreError::Decrypt);
        }
        aes_ctr(enc_key, &iv, &mut plain)?;
        PrivateKey::from_slice(&plain)
    }

    fn derive(&self, password: &str) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
        let c = &self.crypto;
        match c.kdf.as_str() {
            "scrypt" => {
                let params: ScryptParams = serde_json::from_value(c.kdfparams.clone())?;
                kdf::scrypt_key(password.as_bytes(), &params)
            }
            "pbkdf2" => {
                let params: Pbkdf2Params = serde_json::from_value(c.kdfparams.clone())?;
                kdf::pbkdf2_key(password.as_bytes(), &params)
            }
            other => Err(KeystoreError::UnsupportedKdf(other.to_owned())),
        }
    }
}

fn split_derived(derived: &[u8]) -> Result<(&[u8], &[u8]), KeystoreError> {
    match (derived.get(..16), derived.get(16..32)) {
        (Some(enc), Some(mac)) => Ok((enc, mac)),
        _ => Err(KeystoreError::InvalidKdfParams { reason: "derived key shorter than 32 bytes" }),
    }
}

fn aes_ctr(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), KeystoreError> {
    let mut cipher = Aes128Ctr::new_from_slices(key, iv)
        .map_err(|_| KeystoreError::InvalidField { field: "iv" })?;
    cipher.apply_keystream(data);
    Ok(())
}

fn hex_field(value: &str, field: &'static str) -> Result<Vec<u8>, KeystoreError> {
    let v = value.strip_prefix("0x").unwrap_or(value);
    hex::decode(v).map_err(|_| KeystoreError::InvalidField { field })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut out);
    out
}
