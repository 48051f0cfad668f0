//! Payload cryptography for both [`CryptoSuite`]s: shared-key derivation between two key pairs
//! ([`SharedKey`], Tessera's `beforenm`), sealing under a shared key, and sealing payloads under
//! a master key.
//!
//! * NaCl (Tessera): `beforenm` = HSalsa20(X25519 secret, zero input); seal = XSalsa20-Poly1305
//!   under that key with the tag first (`crypto_box_afternm` = `crypto_secretbox`, without the
//!   zero padding).
//! * X25519 + XChaCha20-Poly1305: shared key = HKDF-SHA256(X25519 secret, info = label || the
//!   two public keys in ascending order); seal = XChaCha20-Poly1305 (tag last).
//!
//! Both suites refuse low-order (non-contributory) peer keys, whose shared secret is public.

use chacha20poly1305::XChaCha20Poly1305;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::config::CryptoSuite;
use crate::error::EnclaveError;
use crate::keys::KeyPair;
use crate::types::PublicKey;

/// Master key length.
pub const MASTER_KEY_LEN: usize = 32;
/// Nonce length of both suites.
pub const NONCE_LEN: usize = 24;

const HKDF_INFO_LABEL: &[u8] = b"quorum-rs enclave x25519-xchacha20poly1305 v1";

/// A random master key.
pub fn random_master_key() -> Zeroizing<[u8; MASTER_KEY_LEN]> {
    let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    key
}

/// A random 24-byte nonce.
pub fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    nonce
}

fn nonce_of(nonce: &[u8]) -> Result<&[u8; NONCE_LEN], EnclaveError> {
    <&[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| EnclaveError::InvalidKeyLength {
        what: "nonce",
        expected: NONCE_LEN,
        actual: nonce.len(),
    })
}

/// Checks and converts an opened master key.
pub fn master_key_of(bytes: &[u8]) -> Result<Zeroizing<[u8; MASTER_KEY_LEN]>, EnclaveError> {
    <[u8; MASTER_KEY_LEN]>::try_from(bytes).map(Zeroizing::new).map_err(|_| {
        EnclaveError::InvalidKeyLength {
            what: "master key",
            expected: MASTER_KEY_LEN,
            actual: bytes.len(),
        }
    })
}

/// A precomputed shared key between one of our keys and a peer key.
pub enum SharedKey {
    /// Secretbox keyed with the NaCl `beforenm` result.
    Nacl(XSalsa20Poly1305),
    /// HKDF-derived XChaCha20-Poly1305 key.
    ChaCha(XChaCha20Poly1305),
}

impl std::fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedKey(<redacted>)")
    }
}

impl SharedKey {
    /// Derives the shared key of our key pair and `peer` (public) for `suite`.
    pub fn derive(
        suite: CryptoSuite,
        ours: &KeyPair,
        peer: &PublicKey,
    ) -> Result<Self, EnclaveError> {
        let secret = x25519_dalek::StaticSecret::from(*ours.private.expose());
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        if !shared.was_contributory() {
            return Err(EnclaveError::WeakKey(*peer));
        }
        match suite {
            CryptoSuite::Nacl => {
                let key = Zeroizing::new(salsa20::hsalsa::<salsa20::cipher::consts::U10>(
                    shared.as_bytes().into(),
                    &Default::default(),
                ));
                Ok(Self::Nacl(XSalsa20Poly1305::new(&key)))
            }
            CryptoSuite::X25519ChaCha20Poly1305 => {
                let own = ours.public;
                let (low, high) = if own <= *peer { (own, *peer) } else { (*peer, own) };
                let mut info = Vec::with_capacity(HKDF_INFO_LABEL.len() + 64);
                info.extend_from_slice(HKDF_INFO_LABEL);
                info.extend_from_slice(low.as_bytes());
                info.extend_from_slice(high.as_bytes());
                let mut key = Zeroizing::new([0u8; 32]);
                hkdf::Hkdf::<sha2::Sha256>::new(None, shared.as_bytes())
                    .expand(&info, key.as_mut())
                    .map_err(|_| EnclaveError::EncryptionFailed)?;
                Ok(Self::ChaCha(XChaCha20Poly1305::new(key.as_ref().into())))
            }
        }
    }

    /// Seals `message` (a master key) under this shared key.
    pub fn seal(&self, nonce: &[u8], message: &[u8]) -> Result<Vec<u8>, EnclaveError> {
        let nonce = nonce_of(nonce)?;
        match self {
            Self::Nacl(cipher) => cipher.encrypt(nonce.into(), message),
            Self::ChaCha(cipher) => cipher.encrypt(nonce.into(), message),
        }
        .map_err(|_| EnclaveError::EncryptionFailed)
    }

    /// Opens a box sealed under this shared key.
    pub fn open(&self, nonce: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnclaveError> {
        let nonce = nonce_of(nonce)?;
        match self {
            Self::Nacl(cipher) => cipher.decrypt(nonce.into(), sealed),
            Self::ChaCha(cipher) => cipher.decrypt(nonce.into(), sealed),
        }
        .map(Zeroizing::new)
        .map_err(|_| EnclaveError::DecryptionFailed)
    }
}

/// Seals a payload under a master key.
pub fn seal_payload(
    suite: CryptoSuite,
    master_key: &[u8; MASTER_KEY_LEN],
    nonce: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, EnclaveError> {
    let nonce = nonce_of(nonce)?;
    match suite {
        CryptoSuite::Nacl => {
            XSalsa20Poly1305::new(master_key.into()).encrypt(nonce.into(), message)
        }
        CryptoSuite::X25519ChaCha20Poly1305 => {
            XChaCha20Poly1305::new(master_key.into()).encrypt(nonce.into(), message)
        }
    }
    .map_err(|_| EnclaveError::EncryptionFailed)
}

/// Opens a payload sealed under a master key.
pub fn open_payload(
    suite: CryptoSuite,
    master_key: &[u8; MASTER_KEY_LEN],
    nonce: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, EnclaveError> {
    let nonce = nonce_of(nonce)?;
    match suite {
        CryptoSuite::Nacl => XSalsa20Poly1305::new(master_key.into()).decrypt(nonce.into(), sealed),
        CryptoSuite::X25519ChaCha20Poly1305 => {
            XChaCha20Poly1305::new(master_key.into()).decrypt(nonce.into(), sealed)
        }
    }
    .map_err(|_| EnclaveError::DecryptionFailed)
}
