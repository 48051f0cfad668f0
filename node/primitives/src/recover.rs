//! Sender recovery with libsecp256k1.

use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, B256, Signature, keccak256};
use secp256k1::{
    Message, SECP256K1,
    ecdsa::{RecoverableSignature, RecoveryId},
};

use crate::private::{is_private, private_signature_hash};

/// Why a signature could not be recovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// The signature's `s` is in the upper half of the curve order (EIP-2) or r/s are invalid.
    #[error("invalid transaction v, r, s values")]
    InvalidSignature,
}

/// Recovers the address that signed `hash`.
pub fn recover_signer_from_hash(sig: &Signature, hash: &B256) -> Result<Address, RecoveryError> {
    // EIP-2: reject high-s signatures (geth: ErrInvalidSig).
    if sig.normalize_s().is_some() {
        return Err(RecoveryError::InvalidSignature);
    }
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&sig.s().to_be_bytes::<32>());
    let rec_id =
        RecoveryId::try_from(i32::from(sig.v())).map_err(|_| RecoveryError::InvalidSignature)?;
    let rsig = RecoverableSignature::from_compact(&compact, rec_id)
        .map_err(|_| RecoveryError::InvalidSignature)?;
    let msg = Message::from_digest(hash.0);
    let pubkey =
        SECP256K1.recover_ecdsa(msg, &rsig).map_err(|_| RecoveryError::InvalidSignature)?;
    let uncompressed = pubkey.serialize_uncompressed();
    let hash = keccak256(&uncompressed[1..]);
    Ok(Address::from_slice(&hash[12..]))
}

/// Recovers the sender of a transaction, using the Homestead hash for private transactions.
pub fn recover_sender(tx: &TxEnvelope) -> Result<Address, RecoveryError> {
    let hash = match tx {
        TxEnvelope::Legacy(signed) if is_private(tx) => private_signature_hash(signed.tx()),
        _ => tx.signature_hash(),
    };
    recover_signer_from_hash(tx.signature(), &hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
    use alloy_primitives::{TxKind, U256};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    #[test]
    fn recovers_eip1559_and_legacy_like_k256() {
        let signer = PrivateKeySigner::random();
        let tx = TxEip1559 {
            chain_id: 1337,
            nonce: 3,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(7)),
            value: U256::from(5),
            ..Default::default()
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        let env: TxEnvelope = tx.into_signed(sig).into();
        assert_eq!(recover_sender(&env).unwrap(), signer.address());
        // independent check with k256 (alloy's default backend)
        let k256 = env.signature().recover_address_from_prehash(&env.signature_hash()).unwrap();
        assert_eq!(k256, signer.address());

        let legacy =
            TxLegacy { chain_id: Some(1337), nonce: 1, gas_limit: 21_000, ..Default::default() };
        let sig = signer.sign_hash_sync(&legacy.signature_hash()).unwrap();
        let env: TxEnvelope = legacy.into_signed(sig).into();
        assert_eq!(recover_sender(&env).unwrap(), signer.address());
    }

    #[test]
    fn recovers_private_transaction_signed_without_chain_id() {
        let signer = PrivateKeySigner::random();
        let tx = TxLegacy {
            chain_id: None,
            nonce: 0,
            gas_limit: 90_000,
            input: vec![0x11; 64].into(),
            ..Default::default()
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        // GoQuorum rewrites v 27/28 to 37/38; decoded, that is chain id 1.
        let mut marked = tx.clone();
        marked.chain_id = Some(1);
        let env: TxEnvelope = marked.into_signed(sig).into();
        assert!(is_private(&env));
        assert_eq!(recover_sender(&env).unwrap(), signer.address());
    }
}
