//! A blocking JSON-RPC client for the benchmark: single calls for the setup and batches for
//! the load (longer timeouts than `qnet status`'s probes: a loaded node answers slowly).

use std::time::{Duration, Instant};

use alloy_primitives::B256;
use serde_json::{Value, json};

use crate::run::probe::error_chain;

/// How long one call or batch may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTP JSON-RPC client (cheap to clone; connections are pooled).
#[derive(Debug, Clone)]
pub struct Rpc {
    http: reqwest::blocking::Client,
}

/// A hex quantity as u64.
pub fn quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}

impl Rpc {
    /// A client.
    pub fn new() -> Result<Self, String> {
        let http = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| error_chain(&e))?;
        Ok(Self { http })
    }

    fn post(&self, url: &str, body: String) -> Result<Value, String> {
        self.http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::json)
            .map_err(|e| error_chain(&e))
    }

    /// One call: its `result`, or the transport or JSON-RPC error as text.
    pub fn call(&self, url: &str, method: &str, params: Value) -> Result<Value, String> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let resp = self.post(url, body.to_string()).map_err(|e| format!("{method}: {e}"))?;
        match resp.get("error") {
            Some(err) => Err(format!("{method}: {}", err.get("message").unwrap_or(err))),
            None => Ok(resp.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// A call whose result is a hex quantity.
    pub fn call_u64(&self, url: &str, method: &str, params: Value) -> Result<u64, String> {
        let value = self.call(url, method, params)?;
        quantity(&value).ok_or_else(|| format!("{method}: not a quantity: {value}"))
    }

    /// A batch of already encoded requests (`{"jsonrpc":"2.0","id":<i>,...}` with ids
    /// `0..n`): per request, its result or error text, in request order.
    pub fn batch(
        &self,
        url: &str,
        requests: &[String],
    ) -> Result<Vec<Result<Value, String>>, String> {
        let body = format!("[{}]", requests.join(","));
        let answer = self.post(url, body)?;
        let items = answer.as_array().ok_or_else(|| format!("not a batch answer: {answer}"))?;
        let mut out: Vec<Result<Value, String>> =
            (0..requests.len()).map(|_| Err("no answer in the batch".to_owned())).collect();
        for item in items {
            let Some(slot) = item["id"].as_u64().and_then(|i| out.get_mut(i as usize)) else {
                continue;
            };
            *slot = match item.get("error") {
                Some(err) => Err(err.get("message").unwrap_or(err).to_string()),
                None => Ok(item.get("result").cloned().unwrap_or(Value::Null)),
            };
        }
        Ok(out)
    }

    /// Polls for a transaction's receipt until `timeout`.
    pub fn wait_receipt(&self, url: &str, hash: B256, timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let receipt = self.call(url, "eth_getTransactionReceipt", json!([hash]))?;
            if !receipt.is_null() {
                return Ok(receipt);
            }
            if Instant::now() > deadline {
                return Err(format!("no receipt for {hash} after {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
