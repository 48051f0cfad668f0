//! A blocking JSON-RPC-over-HTTP client that keeps the node's error code, message and data, so
//! tests can compare them with geth's.

use std::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U64, U256};
use eyre::{WrapErr, eyre};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// How long one HTTP request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default wait for a receipt.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcError {
    /// The request did not get an HTTP answer (connection refused, reset, timeout).
    Transport(String),
    /// A JSON-RPC error object.
    Rpc {
        /// `error.code`.
        code: i64,
        /// `error.message`.
        message: String,
        /// `error.data`, if any.
        data: Option<Value>,
    },
    /// The answer is not a JSON-RPC response.
    BadResponse(String),
}

impl RpcError {
    /// `(code, message)` of a JSON-RPC error, `None` for transport and format failures.
    pub fn code_message(&self) -> Option<(i64, &str)> {
        match self {
            Self::Rpc { code, message, .. } => Some((*code, message.as_str())),
            _ => None,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "transport error: {e}"),
            Self::Rpc { code, message, data } => {
                write!(f, "JSON-RPC error {code}: {message} (data: {data:?})")
            }
            Self::BadResponse(e) => write!(f, "bad response: {e}"),
        }
    }
}

impl std::error::Error for RpcError {}

/// A JSON-RPC client for one HTTP endpoint.
#[derive(Debug)]
pub struct Rpc {
    url: String,
    http: reqwest::blocking::Client,
    next_id: AtomicU64,
}

/// A `0x` quantity as `u64`.
pub fn quantity(v: &Value) -> eyre::Result<u64> {
    Ok(serde_json::from_value::<U64>(v.clone())
        .wrap_err_with(|| format!("not a quantity: {v}"))?
        .to::<u64>())
}

/// A `0x` quantity as `U256`.
pub fn quantity_u256(v: &Value) -> eyre::Result<U256> {
    serde_json::from_value::<U256>(v.clone()).wrap_err_with(|| format!("not a quantity: {v}"))
}

impl Rpc {
    /// A client for `url` (`http://host:port`).
    pub fn new(url: &str) -> eyre::Result<Self> {
        let http = reqwest::blocking::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
        Ok(Self { url: url.to_string(), http, next_id: AtomicU64::new(1) })
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// POSTs `body` as is and returns the parsed JSON answer (for malformed requests and batches).
    pub fn post_raw(&self, body: impl Into<String>) -> Result<Value, RpcError> {
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .map_err(|e| RpcError::Transport(e.to_string()))?;
        let text = resp.text().map_err(|e| RpcError::Transport(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| RpcError::BadResponse(format!("{e}: {text}")))
    }

    /// Calls `method` with positional `params` (a JSON array).
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let resp = self.post_raw(body.to_string())?;
        parse_response(resp, id)
    }

    /// Calls and deserializes the result; any error becomes an `eyre` error naming the method.
    pub fn req<T: DeserializeOwned>(&self, method: &str, params: Value) -> eyre::Result<T> {
        let v = self.call(method, params.clone()).wrap_err_with(|| format!("{method} {params}"))?;
        serde_json::from_value(v.clone())
            .wrap_err_with(|| format!("{method}: unexpected result {v}"))
    }

    /// `eth_blockNumber`.
    pub fn block_number(&self) -> eyre::Result<u64> {
        quantity(&self.req::<Value>("eth_blockNumber", json!([]))?)
    }

    /// `eth_getTransactionCount(addr, tag)`.
    pub fn nonce(&self, addr: Address, tag: &str) -> eyre::Result<u64> {
        quantity(&self.req::<Value>("eth_getTransactionCount", json!([addr, tag]))?)
    }

    /// `eth_getBalance(addr, tag)`.
    pub fn balance(&self, addr: Address, tag: &str) -> eyre::Result<U256> {
        quantity_u256(&self.req::<Value>("eth_getBalance", json!([addr, tag]))?)
    }

    /// `eth_getBlockByNumber(n, full)`; errors when the block is missing.
    pub fn block(&self, number: u64, full: bool) -> eyre::Result<Value> {
        let b: Value = self.req("eth_getBlockByNumber", json!([format!("{number:#x}"), full]))?;
        if b.is_null() {
            return Err(eyre!("block {number} is missing"));
        }
        Ok(b)
    }

    /// `eth_sendRawTransaction`; keeps the node's error for inspection.
    pub fn send_raw(&self, raw: &[u8]) -> Result<B256, RpcError> {
        let v = self
            .call("eth_sendRawTransaction", json!([alloy_primitives::hex::encode_prefixed(raw)]))?;
        serde_json::from_value(v.clone()).map_err(|e| RpcError::BadResponse(format!("{e}: {v}")))
    }

    /// `eth_getTransactionReceipt` (null while pending).
    pub fn receipt(&self, hash: B256) -> eyre::Result<Value> {
        self.req("eth_getTransactionReceipt", json!([hash]))
    }

    /// Polls for a receipt until `timeout`.
    pub fn wait_receipt(&self, hash: B256, timeout: Duration) -> eyre::Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.receipt(hash)?;
            if !r.is_null() {
                return Ok(r);
            }
            if Instant::now() > deadline {
                return Err(eyre!("no receipt for {hash:#x} within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Sends a raw transaction and waits for its receipt; errors unless it succeeded (status 1).
    pub fn send_and_wait(&self, raw: &[u8]) -> eyre::Result<Value> {
        let hash = self.send_raw(raw).wrap_err("eth_sendRawTransaction")?;
        let receipt = self.wait_receipt(hash, RECEIPT_TIMEOUT)?;
        if receipt["status"] != json!("0x1") {
            return Err(eyre!("transaction {hash:#x} failed: {receipt}"));
        }
        Ok(receipt)
    }
}

fn parse_response(resp: Value, id: u64) -> Result<Value, RpcError> {
    if resp.get("jsonrpc") != Some(&json!("2.0")) || resp.get("id") != Some(&json!(id)) {
        return Err(RpcError::BadResponse(format!("not a response to request {id}: {resp}")));
    }
    if let Some(err) = resp.get("error") {
        let code = err.get("code").and_then(Value::as_i64);
        let message = err.get("message").and_then(Value::as_str);
        return match (code, message) {
            (Some(code), Some(message)) => Err(RpcError::Rpc {
                code,
                message: message.to_string(),
                data: err.get("data").cloned(),
            }),
            _ => Err(RpcError::BadResponse(format!("malformed error object: {err}"))),
        };
    }
    resp.get("result")
        .cloned()
        .ok_or_else(|| RpcError::BadResponse(format!("no result or error: {resp}")))
}
