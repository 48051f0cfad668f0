//! Local keys that pre-sign legacy (EIP-155, gas price 0) transactions, as free-gas Quorum
//! chains take them.

use std::path::Path;

use alloy_consensus::{SignableTransaction as _, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718 as _;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync as _;
use alloy_signer_local::PrivateKeySigner;

use super::error::BenchError;

/// A signed transaction ready for `eth_sendRawTransaction`.
#[derive(Debug, Clone)]
pub struct PreSigned {
    /// Its hash (what blocks list).
    pub hash: B256,
    /// Its raw encoding.
    pub raw: Bytes,
}

/// One key on one chain.
#[derive(Debug, Clone)]
pub struct Signer {
    key: PrivateKeySigner,
    chain_id: u64,
}

impl Signer {
    /// A key from its 32 bytes.
    pub fn from_bytes(key: &B256, chain_id: u64) -> Result<Self, BenchError> {
        let key = PrivateKeySigner::from_bytes(key)
            .map_err(|e| BenchError::Setup(format!("bad private key: {e}")))?;
        Ok(Self { key, chain_id })
    }

    /// The `i`-th sender of run `run`: `keccak256("qnet bench <run> sender <i>")`, a fresh
    /// account (nonce 0) for every run id.
    pub fn bench_sender(run: &str, i: usize, chain_id: u64) -> Result<Self, BenchError> {
        Self::from_bytes(&keccak256(format!("qnet bench {run} sender {i}")), chain_id)
    }

    /// A key file as `qnet init` writes it (`0x` + 64 hex digits, one line).
    pub fn from_key_file(path: &Path, chain_id: u64) -> Result<Self, BenchError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| BenchError::Io { path: path.to_owned(), source })?;
        let key: B256 = text.trim().parse().map_err(|e| {
            BenchError::Setup(format!("{}: not a 32-byte hex key: {e}", path.display()))
        })?;
        Self::from_bytes(&key, chain_id)
    }

    /// The account.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Signs a legacy transaction with gas price 0 and no value.
    pub fn sign(
        &self,
        nonce: u64,
        to: TxKind,
        input: Bytes,
        gas_limit: u64,
    ) -> Result<PreSigned, BenchError> {
        let tx = TxLegacy {
            chain_id: Some(self.chain_id),
            nonce,
            gas_price: 0,
            gas_limit,
            to,
            value: U256::ZERO,
            input,
        };
        let sig = self
            .key
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| BenchError::Setup(format!("signing: {e}")))?;
        let raw: Bytes = TxEnvelope::Legacy(tx.into_signed(sig)).encoded_2718().into();
        Ok(PreSigned { hash: keccak256(&raw), raw })
    }
}

#[cfg(test)]
mod tests {
    use alloy_consensus::{Transaction as _, TxEnvelope, transaction::SignerRecoverable as _};
    use alloy_eips::eip2718::Decodable2718 as _;
    use alloy_primitives::{Address, TxKind};

    use super::Signer;

    #[test]
    fn signed_transactions_recover_to_the_sender_with_their_hash() {
        let s = Signer::bench_sender("t", 3, 1337).unwrap();
        let to = TxKind::Call(Address::repeat_byte(7));
        let signed = s.sign(5, to, vec![1, 2, 3].into(), 50_000).unwrap();
        let tx = TxEnvelope::decode_2718(&mut signed.raw.as_ref()).unwrap();
        assert_eq!(*tx.tx_hash(), signed.hash);
        assert_eq!(tx.recover_signer().unwrap(), s.address());
        assert_eq!((tx.nonce(), tx.chain_id(), tx.gas_limit()), (5, Some(1337), 50_000));
        assert_ne!(s.address(), Signer::bench_sender("t", 4, 1337).unwrap().address());
    }
}
