//! `eth_subscribe`: `newHeads`, `logs`, `newPendingTransactions` (and `syncing`).

use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage, types::ErrorObjectOwned};
use qrs_chain::ChainEvent;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::{
    Module, RegisterResult,
    error::RpcError,
    filters::{LogFilter, block_logs},
    json::{hash, header_json},
    params::Args,
};

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |params, pending, ctx, _| async move {
            let parsed = Args::parse(params.as_str()).and_then(|a| {
                let kind: String = a.req(0)?;
                let filter: Option<LogFilter> = if kind == "logs" { a.opt(1)? } else { None };
                Ok((kind, filter))
            });
            let (kind, filter) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    pending.reject(ErrorObjectOwned::from(e)).await;
                    return Ok(());
                }
            };
            match kind.as_str() {
                "newHeads" | "logs" => {
                    chain_feed(
                        pending,
                        ctx.chain.clone(),
                        kind == "logs",
                        filter.unwrap_or_default(),
                    )
                    .await
                }
                "newPendingTransactions" => pending_feed(pending, ctx.chain.clone()).await,
                "syncing" => syncing_feed(pending, ctx.sync.clone()).await,
                other => {
                    pending
                        .reject(ErrorObjectOwned::from(RpcError::Rejected(format!(
                            "no \"{other}\" subscription in eth namespace"
                        ))))
                        .await;
                    Ok(())
                }
            }
        },
    )?;
    Ok(())
}

type SubResult = jsonrpsee::core::SubscriptionResult;

/// `syncing`: `false` at once, then geth's `{syncing: true, status}` when range sync starts and
/// `false` when it ends (polled every 250 ms).
async fn syncing_feed(
    pending: PendingSubscriptionSink,
    sync: Option<qrs_sync::SyncHandle>,
) -> SubResult {
    let sink = pending.accept().await?;
    sink.send(to_msg(&Value::Bool(false))?).await?;
    let Some(sync) = sync else {
        sink.closed().await;
        return Ok(());
    };
    let mut was_syncing = false;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            _ = tick.tick() => {
                let status = sync.status();
                if status.syncing == was_syncing {
                    continue;
                }
                was_syncing = status.syncing;
                let msg = if status.syncing {
                    serde_json::json!({ "syncing": true, "status": crate::peers::sync_object(&status) })
                } else {
                    Value::Bool(false)
                };
                sink.send(to_msg(&msg)?).await?;
            }
        }
    }
}

fn to_msg(v: &Value) -> Result<SubscriptionMessage, serde_json::Error> {
    Ok(SubscriptionMessage::from(serde_json::value::to_raw_value(v)?))
}

async fn chain_feed(
    pending: PendingSubscriptionSink,
    chain: qrs_chain::Chain,
    logs: bool,
    filter: LogFilter,
) -> SubResult {
    let mut rx = chain.subscribe();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            event = rx.recv() => match event {
                Ok(ChainEvent::NewBlock(b)) => {
                    if logs {
                        for log in block_logs(&b.block, &b.receipts, &filter) {
                            sink.send(to_msg(&log)?).await?;
                        }
                    } else {
                        let header = header_json(&b.block.header, &b.block.hash, None, None);
                        sink.send(to_msg(&Value::Object(header))?).await?;
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::warn!(target: "rpc::pubsub", skipped = n, "subscriber lagging"),
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
}

async fn pending_feed(pending: PendingSubscriptionSink, chain: qrs_chain::Chain) -> SubResult {
    let mut rx = chain.pool().subscribe();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            h = rx.recv() => match h {
                Ok(h) => sink.send(to_msg(&hash(&h))?).await?,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
}
