//! `--gcmode`: archive keeps every block's state readable; full (GoQuorum's default) keeps the
//! states at flush points (every 32 blocks) and the newer ones still in memory.

use std::time::Duration;

use eyre::{WrapErr, eyre};
use qrs_node::{NodeConfig, dev_address, launch};
use serde_json::{Value, json};

/// A transfer per block: after it, block `n` holds a balance of `n` wei at `TO`.
const TO: &str = "0x00000000000000000000000000000000000000aa";
/// Blocks made: past the first flush (block 32), so states before it are gone in full mode.
const BLOCKS: u64 = 40;

async fn call(url: &str, method: &str, params: Value) -> eyre::Result<Result<Value, Value>> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let reply: Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .wrap_err_with(|| format!("{method}: request"))?
        .json()
        .await?;
    Ok(match reply.get("error") {
        Some(e) => Err(e.clone()),
        None => Ok(reply["result"].clone()),
    })
}

/// Makes `BLOCKS` one-transfer blocks on a dev node and returns its RPC URL.
async fn chain_of_transfers(url: &str) -> eyre::Result<()> {
    for n in 1..=BLOCKS {
        let tx = json!([{ "from": dev_address(), "to": TO, "value": "0x1" }]);
        call(url, "eth_sendTransaction", tx).await?.map_err(|e| eyre!("send: {e}"))?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while call(url, "eth_blockNumber", json!([])).await?.map_err(|e| eyre!("{e}"))?
            != json!(format!("{n:#x}"))
        {
            if tokio::time::Instant::now() > deadline {
                return Err(eyre!("block {n} not produced"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok(())
}

async fn balance_at(url: &str, block: u64) -> eyre::Result<Result<Value, Value>> {
    call(url, "eth_getBalance", json!([TO, format!("{block:#x}")])).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_mode_keeps_flushed_and_recent_states_archive_keeps_all() -> eyre::Result<()> {
    for archive in [false, true] {
        let dir = tempfile::tempdir()?;
        let mut config = NodeConfig::dev_test(dir.path().to_path_buf());
        config.archive = archive;
        let node = launch(config).await?;
        let url = node.http_url().ok_or_else(|| eyre!("no http server"))?;
        chain_of_transfers(&url).await?;
        // The flush point and the blocks after it are readable in both modes.
        for block in [32, 33, BLOCKS] {
            assert_eq!(balance_at(&url, block).await?, Ok(json!(format!("{block:#x}"))));
        }
        let old = balance_at(&url, 5).await?;
        if archive {
            assert_eq!(old, Ok(json!("0x5")));
        } else {
            let err = old.expect_err("block 5's state was not persisted in full mode");
            assert!(
                err["message"].as_str().unwrap_or_default().contains("missing trie node"),
                "{err}"
            );
        }
        node.stop().await?;
    }
    Ok(())
}
