//! Two in-process qnodes peered over p2p (loopback, port 0): a dev miner and a follower, driven
//! over JSON-RPC like a client would.

use std::time::Duration;

use eyre::{WrapErr, eyre};
use qrs_node::{ConsensusChoice, NetworkOptions, NodeConfig, NodeHandle, dev_address, launch};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(60);

async fn rpc(url: &str, method: &str, params: Value) -> eyre::Result<Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let reply: Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .wrap_err_with(|| format!("{method}: request"))?
        .json()
        .await?;
    match reply.get("error") {
        Some(e) => Err(eyre!("{method}: {e}")),
        None => Ok(reply["result"].clone()),
    }
}

/// Polls `method(params)` until `accept` holds for its result.
async fn until(
    url: &str,
    method: &str,
    params: Value,
    accept: impl Fn(&Value) -> bool,
) -> eyre::Result<Value> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let v = rpc(url, method, params.clone()).await?;
        if accept(&v) {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(eyre!("{method}: still {v} after {PATIENCE:?}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn url(node: &NodeHandle) -> eyre::Result<String> {
    node.http_url().ok_or_else(|| eyre!("no http server"))
}

fn enode_id_hex(node: &NodeHandle) -> eyre::Result<String> {
    let enode = node.enode().ok_or_else(|| eyre!("no network"))?;
    Ok(alloy_primitives::hex::encode(enode.id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_peers_with_miner_and_its_transaction_is_mined() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut miner_cfg = NodeConfig::dev_test(dir.path().join("miner"));
    miner_cfg.network = Some(NetworkOptions::local_test());
    let miner = launch(miner_cfg).await?;
    let miner_enode = miner.enode().ok_or_else(|| eyre!("miner has no network"))?;

    let mut follower_cfg = NodeConfig::dev_test(dir.path().join("follower"));
    follower_cfg.consensus = ConsensusChoice::None;
    let mut net = NetworkOptions::local_test();
    net.extra_static_nodes = vec![miner_enode.clone()];
    follower_cfg.network = Some(net);
    let follower = launch(follower_cfg).await?;
    let (m, f) = (url(&miner)?, url(&follower)?);

    // peering, as clients see it
    for u in [&m, &f] {
        until(u, "net_peerCount", json!([]), |v| v == "0x1").await?;
    }
    let peers = rpc(&f, "admin_peers", json!([])).await?;
    let peer = &peers[0];
    assert!(peer["enode"].as_str().unwrap_or_default().contains(&enode_id_hex(&miner)?), "{peer}");
    assert_eq!(peer["network"]["inbound"], false);
    assert_eq!(peer["network"]["static"], true);
    assert!(peer["caps"].as_array().is_some_and(|c| !c.is_empty()));
    let miner_side = rpc(&m, "admin_peers", json!([])).await?;
    assert_eq!(miner_side[0]["network"]["inbound"], true);
    assert!(
        miner_side[0]["enode"].as_str().unwrap_or_default().contains(&enode_id_hex(&follower)?)
    );
    let info = rpc(&m, "admin_nodeInfo", json!([])).await?;
    assert_eq!(info["enode"], miner_enode.to_string());
    assert_eq!(info["ports"]["listener"], miner.p2p_addr.map(|a| a.port()).unwrap_or_default());
    assert_eq!(info["id"].as_str().map(str::len), Some(64));
    assert_eq!(rpc(&f, "net_listening", json!([])).await?, true);
    assert_eq!(rpc(&f, "eth_syncing", json!([])).await?, false);

    // a transaction sent to the follower travels to the miner, is mined, and comes back
    let to = "0x0000000000000000000000000000000000000042";
    let tx = json!([{ "from": dev_address(), "to": to, "value": "0x2a" }]);
    let hash = rpc(&f, "eth_sendTransaction", tx).await?;
    let on_miner = until(&m, "eth_getTransactionReceipt", json!([hash]), |v| !v.is_null()).await?;
    let on_follower =
        until(&f, "eth_getTransactionReceipt", json!([hash]), |v| !v.is_null()).await?;
    assert_eq!(on_miner["blockHash"], on_follower["blockHash"]);
    assert_eq!(on_miner["status"], "0x1");
    assert_eq!(rpc(&f, "eth_getBalance", json!([to, "latest"])).await?, "0x2a");
    let head =
        |u: String| async move { rpc(&u, "eth_getBlockByNumber", json!(["latest", false])).await };
    let (hm, hf) = (head(m.clone()).await?, head(f.clone()).await?);
    assert_eq!((&hm["hash"], &hm["stateRoot"]), (&hf["hash"], &hf["stateRoot"]));

    // admin_removePeer / admin_addPeer
    assert_eq!(rpc(&f, "admin_removePeer", json!([miner_enode.to_string()])).await?, true);
    until(&f, "net_peerCount", json!([]), |v| v == "0x0").await?;
    assert_eq!(rpc(&f, "admin_addPeer", json!([miner_enode.to_string()])).await?, true);
    until(&f, "net_peerCount", json!([]), |v| v == "0x1").await?;
    let bad = rpc(&f, "admin_addPeer", json!(["enode://nope@127.0.0.1:1"])).await;
    assert!(bad.is_err_and(|e| e.to_string().contains("invalid enode")));

    follower.stop().await?;
    miner.stop().await?;
    Ok(())
}
