//! Blocking probes of a node's JSON-RPC and a TM's REST API (short timeouts: a probe answers
//! "down" instead of hanging).

use std::time::Duration;

use serde_json::{Value, json};

/// How long one probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// An error with its causes (`error sending request: ...: Connection refused`).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// An HTTP client for probes.
#[derive(Debug, Clone)]
pub struct Probe {
    http: reqwest::blocking::Client,
}

impl Probe {
    /// A client with [`PROBE_TIMEOUT`].
    pub fn new() -> Result<Self, String> {
        let http = reqwest::blocking::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .connect_timeout(PROBE_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http })
    }

    /// One JSON-RPC call: its `result`, or the transport or JSON-RPC error as text.
    pub fn rpc(&self, url: &str, method: &str, params: Value) -> Result<Value, String> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let resp: Value = self
            .http
            .post(url)
            .json(&body)
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::json)
            .map_err(|e| format!("{method}: {}", error_chain(&e)))?;
        match resp.get("error") {
            Some(err) => Err(format!("{method}: {}", err.get("message").unwrap_or(err))),
            None => Ok(resp.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// A JSON-RPC call whose result is a hex quantity.
    pub fn rpc_u64(&self, url: &str, method: &str, params: Value) -> Result<u64, String> {
        let value = self.rpc(url, method, params)?;
        value
            .as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .ok_or_else(|| format!("{method}: not a quantity: {value}"))
    }

    /// `GET url`, the body as text (non-2xx is an error).
    pub fn get_text(&self, url: &str) -> Result<String, String> {
        self.http
            .get(url)
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::text)
            .map_err(|e| format!("GET {url}: {}", error_chain(&e)))
    }

    /// A TM's `/upcheck` answers `I'm up!`.
    pub fn tm_up(&self, base: &str) -> Result<(), String> {
        let text = self.get_text(&format!("{base}/upcheck"))?;
        if text.trim() == "I'm up!" { Ok(()) } else { Err(format!("/upcheck said {text:?}")) }
    }

    /// The public keys a TM knows (ThirdParty `/partyinfo/keys`: its own and its peers').
    pub fn tm_known_keys(&self, third_party: &str) -> Result<Vec<String>, String> {
        let url = format!("{third_party}/partyinfo/keys");
        let text = self.get_text(&url)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))?;
        let keys = value.get("keys").and_then(Value::as_array).ok_or(format!("{url}: {text}"))?;
        Ok(keys.iter().filter_map(|k| k.get("key")?.as_str().map(str::to_owned)).collect())
    }
}
