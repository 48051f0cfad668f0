//! Before the clock starts: contracts deployed with a member's key (or, for private load,
//! by the member nodes themselves) and ERC-20 balances handed to the bench senders.

use std::time::Duration;

use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_sol_types::{SolCall as _, SolConstructor as _};
use qrs_contracts::bindings::{QrsToken, SimpleStorage};
use serde_json::{Value, json};

use super::{error::BenchError, rpc::Rpc, sign::Signer};

/// Gas limit of a deployment.
pub const DEPLOY_GAS: u64 = 3_000_000;
/// How long a setup transaction may take to be included.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(120);
/// Transactions per JSON-RPC batch during the setup.
const SETUP_BATCH: usize = 100;
/// Funding transfers (all from one account) in the pool at once: the rest waits for these to
/// be included, so the pool's 4096 pending slots never fill up.
const FUNDING_WAVE: usize = 1000;

/// `SimpleStorage(1)`'s creation code (a non-zero initial value, so every `set` costs the
/// same).
pub fn simple_storage_code() -> Vec<u8> {
    let args = SimpleStorage::constructorCall { initVal: U256::from(1u64) }.abi_encode();
    qrs_contracts::simple_storage().deploy_data(&args).to_vec()
}

/// `QrsToken(supply)`'s creation code (the supply goes to the deployer).
pub fn token_code(supply: U256) -> Vec<u8> {
    let args = QrsToken::constructorCall { initialSupply: supply }.abi_encode();
    qrs_contracts::qrs_token().deploy_data(&args).to_vec()
}

/// The receipt's `contractAddress` after checking `status` is 1.
fn deployed(receipt: &Value, what: &str) -> Result<Address, BenchError> {
    if receipt["status"] != "0x1" {
        return Err(BenchError::Setup(format!("{what} failed: receipt {receipt}")));
    }
    serde_json::from_value(receipt["contractAddress"].clone())
        .map_err(|e| BenchError::Setup(format!("{what}: no contract address ({e}): {receipt}")))
}

/// The account's next nonce (pending) on `url`.
pub fn next_nonce(rpc: &Rpc, url: &str, account: Address) -> Result<u64, BenchError> {
    rpc.call_u64(url, "eth_getTransactionCount", json!([account, "pending"]))
        .map_err(|e| BenchError::rpc(format!("reading the nonce of {account:#x}"), e))
}

/// Deploys `code` signed by `key` through `url` and waits for it.
pub fn deploy_signed(
    rpc: &Rpc,
    url: &str,
    key: &Signer,
    code: Vec<u8>,
    what: &str,
) -> Result<Address, BenchError> {
    let nonce = next_nonce(rpc, url, key.address())?;
    let tx = key.sign(nonce, TxKind::Create, code.into(), DEPLOY_GAS)?;
    rpc.call(url, "eth_sendRawTransaction", json!([tx.raw]))
        .map_err(|e| BenchError::rpc(what, e))?;
    let receipt =
        rpc.wait_receipt(url, tx.hash, SETUP_TIMEOUT).map_err(|e| BenchError::rpc(what, e))?;
    deployed(&receipt, what)
}

/// Deploys `code` privately for `private_for`, node-signed by `from` (an unlocked account of
/// the node at `url`), and waits for it.
pub fn deploy_private(
    rpc: &Rpc,
    url: &str,
    from: Address,
    code: Vec<u8>,
    private_for: &[String],
    what: &str,
) -> Result<Address, BenchError> {
    let tx = json!([{
        "from": from,
        "data": alloy_primitives::Bytes::from(code),
        "gas": format!("{DEPLOY_GAS:#x}"),
        "gasPrice": "0x0",
        "privateFor": private_for,
    }]);
    let hash = rpc.call(url, "eth_sendTransaction", tx).map_err(|e| BenchError::rpc(what, e))?;
    let hash: B256 = serde_json::from_value(hash.clone())
        .map_err(|e| BenchError::rpc(what, format!("not a transaction hash: {hash} ({e})")))?;
    let receipt =
        rpc.wait_receipt(url, hash, SETUP_TIMEOUT).map_err(|e| BenchError::rpc(what, e))?;
    deployed(&receipt, what)
}

/// Transfers `amount` tokens from `owner` to every one of `to` (batched through `url`, in waves
/// of [`FUNDING_WAVE`]) and waits until the last transfer is in a block (so all are: one
/// sender, consecutive nonces).
pub fn fund_token(
    rpc: &Rpc,
    url: &str,
    owner: &Signer,
    token: Address,
    to: &[Address],
    amount: U256,
) -> Result<(), BenchError> {
    let what = "handing ERC-20 balances to the bench senders";
    let first = next_nonce(rpc, url, owner.address())?;
    let mut last = None;
    for (chunk_no, chunk) in to.chunks(SETUP_BATCH).enumerate() {
        let mut requests = Vec::with_capacity(chunk.len());
        for (i, recipient) in chunk.iter().enumerate() {
            let nonce = first + (chunk_no * SETUP_BATCH + i) as u64;
            let input = QrsToken::transferCall { to: *recipient, value: amount }.abi_encode();
            let tx = owner.sign(nonce, TxKind::Call(token), input.into(), 100_000)?;
            requests.push(format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"eth_sendRawTransaction","params":["{}"]}}"#,
                tx.raw
            ));
            last = Some(tx.hash);
        }
        for answer in rpc.batch(url, &requests).map_err(|e| BenchError::rpc(what, e))? {
            answer.map_err(|e| BenchError::rpc(what, e))?;
        }
        let sent = (chunk_no + 1) * SETUP_BATCH;
        if let Some(hash) = last.filter(|_| sent.is_multiple_of(FUNDING_WAVE) && sent < to.len()) {
            rpc.wait_receipt(url, hash, SETUP_TIMEOUT).map_err(|e| BenchError::rpc(what, e))?;
        }
    }
    if let Some(hash) = last {
        let receipt =
            rpc.wait_receipt(url, hash, SETUP_TIMEOUT).map_err(|e| BenchError::rpc(what, e))?;
        if receipt["status"] != "0x1" {
            return Err(BenchError::Setup(format!("{what}: a transfer failed: {receipt}")));
        }
    }
    Ok(())
}

/// `eth_estimateGas` of a call, with a 25% margin; `fallback` when the node cannot estimate.
pub fn gas_for(
    rpc: &Rpc,
    url: &str,
    from: Address,
    to: Address,
    input: &[u8],
    fallback: u64,
) -> u64 {
    let call =
        json!([{ "from": from, "to": to, "data": alloy_primitives::hex::encode_prefixed(input) }]);
    match rpc.call_u64(url, "eth_estimateGas", call) {
        Ok(gas) => gas.saturating_mul(5) / 4,
        Err(e) => {
            tracing::warn!(target: "qnet::bench", error = %e, fallback, "eth_estimateGas failed");
            fallback
        }
    }
}
