//! `eth_sendTransactionAsync` (GoQuorum): answers 32 zero bytes at once, then signs and sends
//! the transaction (public or private, as `eth_sendTransaction`) in the background; with a
//! `callbackUrl` it POSTs `{"txHash": "0x…"}` or `{"error": "…"}` there when done. At most 100
//! are in flight, otherwise `too many concurrent requests`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Value, json};

use crate::{
    Module, RegisterResult,
    call::CallRequest,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    params::Args,
    privacy::{Stage, block_on},
};

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
        "eth_sendTransactionAsync",
        |params, ctx: Arc<RpcContext>, _| -> Result<Value, ErrorObjectOwned> {
            let (req, callback) = Args::parse(params.as_str()).and_then(parse)?;
            let slot = Slot::take()?;
            tokio::task::spawn_blocking(move || {
                let _slot = slot;
                let result = send(&ctx, &req);
                if let Err(e) = &result {
                    tracing::debug!(target: "rpc::async", error = %e, "async send failed");
                }
                if let Some(url) = callback {
                    let body = match result {
                        Ok(hash) => json!({"txHash": hash}),
                        Err(e) => json!({"error": ErrorObjectOwned::from(e).message()}),
                    };
                    post_result(&url, &body);
                }
            });
            Ok(Value::String(format!("0x{}", "0".repeat(64))))
        },
    )?;
    Ok(())
}
