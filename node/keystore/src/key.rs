//! A secp256k1 private key that is zeroized on drop and never printed.

use std::fmt;

use alloy_primitives::{Address, B256, Signature, U256, keccak256};
use rand::RngCore;
use secp256k1::ecdsa::RecoveryId;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};
use zeroize::Zeroizing;

use crate::KeystoreError;

/// A validated secp256k1 private key. The bytes are zeroized on drop; `Debug` shows only the
/// address.
pub struct PrivateKey {
    bytes: Zeroizing<[u8; 32]>,
    address: Address,
}

impl PrivateKey {
    /// Validates 32 bytes as a private key (non-zero, below the curve order).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeystoreError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| KeystoreError::InvalidKey)?;
        let bytes = Zeroizing::new(array);
        let mut secret =
            SecretKey::from_byte_array(*bytes).map_err(|_| KeystoreError::InvalidKey)?;
        let address = public_key_address(&PublicKey::from_secret_key(SECP256K1, &secret));
        secret.non_secure_erase();
        Ok(Self { bytes, address })
    }

    /// A fresh key from the operating system's random number generator.
    pub fn random() -> Self {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rand::rngs::OsRng.fill_bytes(bytes.as_mut_slice());
            // Fails only for 0 or values ≥ the curve order (probability ~2^-128).
            if let Ok(key) = Self::from_slice(bytes.as_slice()) {
                return key;
            }
        }
    }

    /// The account address: the last 20 bytes of `keccak256(uncompressed public key)`.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The raw key bytes (for export and tests); the copy is zeroized when dropped.
    pub fn expose_secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.bytes)
    }

    /// Signs a 32-byte digest as geth's `crypto.Sign` does (recoverable, low-s).
    pub fn sign_hash(&self, hash: &B256) -> Result<Signature, KeystoreError> {
        let mut secret =
            SecretKey::from_byte_array(*self.bytes).map_err(|_| KeystoreError::InvalidKey)?;
        let sig = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), &secret);
        secret.non_secure_erase();
        let (recovery_id, compact) = sig.serialize_compact();
        let (r, s) = compact.split_at(32);
        let y_parity = match recovery_id {
            RecoveryId::Zero => false,
            RecoveryId::One => true,
            RecoveryId::Two | RecoveryId::Three => return Err(KeystoreError::Signing),
        };
        Ok(Signature::new(U256::from_be_slice(r), U256::from_be_slice(s), y_parity))
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey").field("address", &self.address).finish_non_exhaustive()
    }
}

/// Address of a public key.
pub fn public_key_address(public: &PublicKey) -> Address {
    let uncompressed = public.serialize_uncompressed();
    let hash = keccak256(uncompressed.get(1..).unwrap_or_default());
    Address::from_slice(hash.get(12..).unwrap_or_default())
}
