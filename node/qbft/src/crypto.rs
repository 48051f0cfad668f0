//! secp256k1 signing and recovery in GoQuorum's `[R ‖ S ‖ V]` 65-byte form.
//!
//! Reference: GoQuorum `consensus/istanbul/backend/backend.go` (`Sign` hashes with keccak256 first,
//! `SignWithoutHashing` does not) and `consensus/istanbul/utils.go` (`GetSignatureAddress`,
//! `GetSignatureAddressNoHashing`). Go's `crypto.Ecrecover` accepts recovery ids 0..=3 and high-s
//! values, so recovery here does too; signing produces libsecp256k1's deterministic low-s form,
//! byte-identical to Go's `crypto.Sign`.

use alloy_primitives::{Address, B256, keccak256};
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};

/// Why a signature could not be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not 65 bytes (`ErrInvalidSignatureLen`).
    #[error("invalid signature length {0}, want 65")]
    Length(usize),
    /// Recovery id above 3 (`ErrInvalidRecoveryID`).
    #[error("invalid signature recovery id")]
    RecoveryId,
    /// r/s out of range or no public key recovers.
    #[error("invalid signature")]
    Invalid,
}

/// A validator's signing key.
#[derive(Clone)]
pub struct ValidatorKey {
    secret: SecretKey,
    address: Address,
}

impl std::fmt::Debug for ValidatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatorKey")
            .field("address", &self.address)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A 32-byte secret that is not a valid secp256k1 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid secp256k1 secret key")]
pub struct InvalidKey;

impl ValidatorKey {
    /// Builds a key from its 32 secret bytes.
    pub fn from_bytes(secret: &[u8; 32]) -> Result<Self, InvalidKey> {
        let secret = SecretKey::from_byte_array(*secret).map_err(|_| InvalidKey)?;
        let address = public_key_address(&PublicKey::from_secret_key(SECP256K1, &secret));
        Ok(Self { secret, address })
    }

    /// The validator address derived from the key.
    pub fn address(&self) -> Address {
        self.address
    }

    /// GoQuorum `SignWithoutHashing`: signs a 32-byte digest as given.
    pub fn sign_digest(&self, digest: &B256) -> [u8; 65] {
        let msg = Message::from_digest(digest.0);
        let sig = SECP256K1.sign_ecdsa_recoverable(msg, &self.secret);
        let (rec_id, compact) = sig.serialize_compact();
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&compact);
        out[64] = match rec_id {
            RecoveryId::Zero => 0,
            RecoveryId::One => 1,
            RecoveryId::Two => 2,
            RecoveryId::Three => 3,
        };
        out
    }

    /// GoQuorum `Sign`: signs `keccak256(data)`.
    pub fn sign_hashed(&self, data: &[u8]) -> [u8; 65] {
        self.sign_digest(&keccak256(data))
    }
}

/// The Ethereum address of a public key.
pub fn public_key_address(key: &PublicKey) -> Address {
    let uncompressed = key.serialize_uncompressed();
    let hash = keccak256(uncompressed.get(1..).unwrap_or_default());
    Address::from_slice(hash.get(12..).unwrap_or_default())
}

/// GoQuorum `GetSignatureAddressNoHashing`: recovers the signer of a 32-byte digest.
pub fn recover_digest(digest: &B256, sig: &[u8]) -> Result<Address, SignatureError> {
    let sig: &[u8; 65] = sig.try_into().map_err(|_| SignatureError::Length(sig.len()))?;
    let (compact, v) = sig.split_at(64);
    let rec_id = match v.first() {
        Some(0) => RecoveryId::Zero,
        Some(1) => RecoveryId::One,
        Some(2) => RecoveryId::Two,
        Some(3) => RecoveryId::Three,
        _ => return Err(SignatureError::RecoveryId),
    };
    let rsig =
        RecoverableSignature::from_compact(compact, rec_id).map_err(|_| SignatureError::Invalid)?;
    let pk = SECP256K1
        .recover_ecdsa(Message::from_digest(digest.0), &rsig)
        .map_err(|_| SignatureError::Invalid)?;
    Ok(public_key_address(&pk))
}

/// GoQuorum `GetSignatureAddress`: recovers the signer of `keccak256(data)`.
pub fn recover_hashed(data: &[u8], sig: &[u8]) -> Result<Address, SignatureError> {
    recover_digest(&keccak256(data), sig)
}
