//! The raw private transaction flow a client without a node-held key uses (what ethers v6 or
//! web3js-quorum's `generateAndSendRawTransaction` do on the wire): `POST /storeraw` to the
//! sender's TM (ThirdParty API), sign a legacy transaction whose data is the 64-byte TM hash
//! with the Homestead hash (no chain id), rewrite `v` to 37/38, and send it with
//! `eth_sendRawPrivateTransaction` and `privateFor`.

use std::time::Duration;

use alloy_consensus::{SignableTransaction, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use base64::{Engine, engine::general_purpose::STANDARD};
use eyre::{WrapErr, eyre};
use serde_json::{Value, json};

use crate::wallet::encode_signed;

/// A key that signs private transactions (gas price 0, `v` 37/38).
#[derive(Debug, Clone)]
pub struct PrivateSigner {
    signer: PrivateKeySigner,
}

impl PrivateSigner {
    /// A signer from the key's 32 bytes.
    pub fn from_key(key: B256) -> eyre::Result<Self> {
        Ok(Self { signer: PrivateKeySigner::from_bytes(&key).wrap_err("bad private key")? })
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// A signed private transaction whose data is `tm_hash` (the 64 bytes `/storeraw` returned).
    pub fn sign(
        &self,
        nonce: u64,
        to: TxKind,
        tm_hash: &[u8],
        gas_limit: u64,
    ) -> eyre::Result<Bytes> {
        let mut tx = TxLegacy {
            chain_id: None,
            nonce,
            gas_price: 0,
            gas_limit,
            to,
            value: U256::ZERO,
            input: Bytes::copy_from_slice(tm_hash),
        };
        let sig = self.signer.sign_hash_sync(&tx.signature_hash()).wrap_err("signing")?;
        // encoded with chain id 1, a legacy signature's v is 35 + 2 + parity = 37/38: exactly
        // Quorum's private marker over a signature made without a chain id
        tx.chain_id = Some(1);
        Ok(encode_signed(tx, sig))
    }
}

/// A blocking client of a TM's ThirdParty API.
#[derive(Debug, Clone)]
pub struct ThirdParty {
    client: reqwest::blocking::Client,
    url: String,
}

impl ThirdParty {
    /// A client of the ThirdParty server at `url`.
    pub fn new(url: &str) -> eyre::Result<Self> {
        let client =
            reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build()?;
        Ok(Self { client, url: url.trim_end_matches('/').to_string() })
    }

    /// `POST /storeraw`: stores `payload` for `from` (a TM public key, base64); returns the
    /// 64-byte hash.
    pub fn store_raw(&self, payload: &[u8], from: &str) -> eyre::Result<Vec<u8>> {
        let body = json!({"payload": STANDARD.encode(payload), "from": from});
        let res = self.client.post(format!("{}/storeraw", self.url)).json(&body).send()?;
        let status = res.status();
        let text = res.text()?;
        if !status.is_success() {
            return Err(eyre!("/storeraw answered {status}: {text}"));
        }
        let v: Value = serde_json::from_str(&text)?;
        let key = v["key"].as_str().ok_or_else(|| eyre!("/storeraw answer without key: {text}"))?;
        let hash = STANDARD.decode(key)?;
        if hash.len() != 64 {
            return Err(eyre!("/storeraw key is {} bytes, not 64", hash.len()));
        }
        Ok(hash)
    }
}

/// The `eth_sendRawPrivateTransaction` parameters for `raw` sent to `private_for`.
pub fn send_raw_private_params(raw: &Bytes, private_for: &[String]) -> Value {
    json!([raw, {"privateFor": private_for}])
}

/// Base64 (standard alphabet, padded), as TM keys and payloads are written.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}
