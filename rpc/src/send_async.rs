//! `eth_sendTransactionAsync` (GoQuorum): answers 32 zero bytes at once, then signs and sends
//! the transaction (public or private, as `eth_sendTransaction`) in the background; with a
//! `callbackUrl` it POSTs `{"id": "<raw request id>", "txHash": "0x…"}` or `{"id": …, "error":
//! "…"}` there when done (`id` is the request's JSON-RPC id as raw JSON text, as GoQuorum's
//! `json.RawMessage`). At most 100 are in flight, otherwise `too many concurrent requests`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use jsonrpsee::types::{ErrorObjectOwned, Request};
use serde_json::{Value, json};

use crate::{
    Module, RegisterResult,
    call::CallRequest,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    params::Args,
    privacy::{Stage, block_on},
};

/// The method name.
const METHOD: &str = "eth_sendTransactionAsync";

/// The raw JSON text of a request's id, put in the request's extensions by the RPC middleware.
#[derive(Debug, Clone)]
struct RawRequestId(String);

/// Called by the RPC middleware for every request: remembers this method's request id.
pub(crate) fn tag_request_id(request: &mut Request<'_>) {
    if request.method_name() == METHOD {
        let raw = serde_json::to_string(&request.id).unwrap_or_default();
        request.extensions_mut().insert(RawRequestId(raw));
    }
}

/// GoQuorum's limit of background sends.
const MAX_IN_FLIGHT: usize = 100;

/// Background sends in flight in this process.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Releases an in-flight slot when dropped.
struct Slot;

impl Slot {
    fn take() -> RpcResult<Self> {
        let taken = IN_FLIGHT.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_IN_FLIGHT).then_some(n + 1)
        });
        match taken {
            Ok(_) => Ok(Self),
            Err(_) => Err(RpcError::Rejected("too many concurrent requests".into())),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Splits the `callbackUrl` off the arguments and parses the rest as `eth_sendTransaction`'s.
fn parse(a: Args) -> RpcResult<(CallRequest, Option<String>)> {
    let mut obj: Value = a.at_most(1)?.req(0)?;
    let callback = match obj.as_object_mut().and_then(|o| o.remove("callbackUrl")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(RpcError::InvalidParams(format!(
                "callbackUrl must be a string, not {other}"
            )));
        }
    };
    let req: CallRequest =
        serde_json::from_value(obj).map_err(|e| RpcError::InvalidParams(e.to_string()))?;
    Ok((req, callback))
}

/// Signs and submits like `eth_sendTransaction`; the transaction hash as JSON.
fn send(c: &RpcContext, req: &CallRequest) -> RpcResult<Value> {
    let (signed, from) = crate::send::sign_request(c, req, None, Stage::Send)?;
    crate::send::send_signed(c, signed, from)
}

fn post_result(url: &str, body: &Value) {
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(target: "rpc::async", error = %e, "no HTTP client for the callback");
            return;
        }
    };
    match block_on(client.post(url).json(body).send()) {
        Ok(res) if res.status().is_success() => {}
        Ok(res) => {
            tracing::warn!(target: "rpc::async", %url, status = %res.status(), "callback refused")
        }
        Err(e) => tracing::warn!(target: "rpc::async", %url, error = %e, "callback failed"),
    }
}

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    m.register_blocking_method(
        METHOD,
        |params, ctx: Arc<RpcContext>, ext| -> Result<Value, ErrorObjectOwned> {
            let id = ext.get::<RawRequestId>().map(|r| r.0.clone());
            let (req, callback) = Args::parse(params.as_str()).and_then(parse)?;
            let slot = Slot::take()?;
            tokio::task::spawn_blocking(move || {
                let _slot = slot;
                let result = send(&ctx, &req);
                if let Err(e) = &result {
                    tracing::debug!(target: "rpc::async", error = %e, "async send failed");
                }
                if let Some(url) = callback {
                    let mut body = match result {
                        Ok(hash) => json!({"txHash": hash}),
                        Err(e) => json!({"error": ErrorObjectOwned::from(e).message()}),
                    };
                    if let Some(id) = id {
                        body["id"] = Value::String(id);
                    }
                    post_result(&url, &body);
                }
            });
            Ok(Value::String(format!("0x{}", "0".repeat(64))))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_100_in_flight() {
        let slots: Vec<Slot> = (0..MAX_IN_FLIGHT).map(|_| Slot::take().unwrap()).collect();
        let err = Slot::take().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("too many concurrent requests"), "{err}");
        drop(slots);
        assert!(Slot::take().is_ok(), "slots are released when the sends finish");
    }

    #[test]
    fn callback_url_is_split_off() {
        let a = Args::parse(Some(r#"[{"from":"0x0000000000000000000000000000000000000001","callbackUrl":"http://x/cb","privateFor":[]}]"#)).unwrap();
        let (req, url) = parse(a).unwrap();
        assert_eq!(url.as_deref(), Some("http://x/cb"));
        assert!(req.private_for.is_some());
        let a = Args::parse(Some(r#"[{"callbackUrl":5}]"#)).unwrap();
        assert!(parse(a).is_err());
    }
}
