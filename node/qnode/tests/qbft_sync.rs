//! Four QBFT validators and a late follower, all in-process through `launch(NodeConfig)`: the
//! follower range-syncs sealed blocks (checked by the QBFT follower verifier), a transaction
//! sent to it is gossiped to the validators, sealed and imported everywhere.

use std::time::Duration;

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::eyre;
use qrs_consensus::qbft::QbftOptions;
use qrs_network::{Enode, NodeKey};
use qrs_node::{ConsensusChoice, NetworkOptions, NodeConfig, NodeHandle, init_datadir, launch};
use serde_json::{Value, json};

const CHAIN_ID: u64 = 1337;
const PATIENCE: Duration = Duration::from_secs(90);

fn funded() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&alloy_primitives::keccak256(b"qnode-qbft-sync")).expect("key")
}

fn key(i: u8) -> eyre::Result<NodeKey> {
    let mut b = [0x22u8; 32];
    b[31] = i + 1;
    Ok(NodeKey::from_bytes(&b)?)
}

fn genesis(validators: &[Address]) -> Value {
    let mut sorted = validators.to_vec();
    sorted.sort();
    let extra = qrs_qbft::QbftExtra {
        vanity: Bytes::from(vec![0u8; 32]),
        validators: sorted,
        ..Default::default()
    };
    json!({
        "config": {
            "chainId": CHAIN_ID, "isQuorum": true,
            "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
            "qbft": { "epochLength": 30000, "blockPeriodSeconds": 1, "requestTimeoutSeconds": 2,
                      "policy": 0, "ceil2Nby3Block": 0 }
        },
        "nonce": "0x0", "timestamp": "0x0", "gasLimit": "0x1c9c380", "difficulty": "0x1",
        "mixHash": qrs_qbft::ISTANBUL_DIGEST.to_string(),
        "coinbase": "0x0000000000000000000000000000000000000000",
        "extraData": extra.to_extra_bytes().to_string(),
        "alloc": { funded().address().to_string(): { "balance": "0x3635C9ADC5DEA00000" } }
    })
}

async fn node(
    dir: &std::path::Path,
    genesis_file: &std::path::Path,
    key: NodeKey,
    peers: Vec<Enode>,
    consensus: ConsensusChoice,
) -> eyre::Result<NodeHandle> {
    init_datadir(dir, genesis_file)?;
    let mut c = NodeConfig::dev_test(dir.to_path_buf());
    c.dev = false;
    c.ws = None;
    c.consensus = consensus;
    c.network = Some(NetworkOptions {
        node_key: Some(key),
        extra_static_nodes: peers,
        ..NetworkOptions::local_test()
    });
    launch(c).await
}

async fn rpc(url: &str, method: &str, params: Value) -> eyre::Result<Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let reply: Value = reqwest::Client::new().post(url).json(&body).send().await?.json().await?;
    match reply.get("error") {
        Some(e) => Err(eyre!("{method}: {e}")),
        None => Ok(reply["result"].clone()),
    }
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) -> eyre::Result<()> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            return Err(eyre!("timed out: {what}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_follower_syncs_sealed_blocks_and_its_transaction_is_sealed() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let keys: Vec<NodeKey> = (0..4).map(key).collect::<eyre::Result<_>>()?;
    let file = dir.path().join("genesis.json");
    let validators: Vec<Address> = keys.iter().map(NodeKey::address).collect();
    std::fs::write(&file, genesis(&validators).to_string())?;

    let mut nodes: Vec<NodeHandle> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let peers = nodes.iter().filter_map(NodeHandle::enode).collect();
        let qbft = ConsensusChoice::Qbft(QbftOptions::default());
        nodes.push(node(&dir.path().join(format!("v{i}")), &file, k.clone(), peers, qbft).await?);
    }
    until("validators sealed 5 blocks", || nodes.iter().all(|n| n.chain.head().header.number >= 5))
        .await?;

    let peers = nodes.iter().filter_map(NodeHandle::enode).collect();
    let follower =
        node(&dir.path().join("f"), &file, NodeKey::generate(), peers, ConsensusChoice::None)
            .await?;
    let target = nodes[0].chain.head().header.number;
    until("follower synced", || follower.chain.head().header.number >= target).await?;

    let tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce: 0,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(7u64),
        input: Bytes::new(),
    };
    let sig = funded().sign_hash_sync(&tx.signature_hash())?;
    let raw: TxEnvelope = tx.into_signed(sig).into();
    let url = follower.http_url().ok_or_else(|| eyre!("no http"))?;
    // a follower serves istanbul_* too (GoQuorum does on every node of an istanbul chain)
    let listed: Vec<Address> =
        serde_json::from_value(rpc(&url, "istanbul_getValidators", json!(["latest"])).await?)?;
    let mut expected_set = validators.clone();
    expected_set.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected_set, "a follower lists the validators");
    assert_eq!(rpc(&url, "istanbul_isValidator", json!(["latest"])).await?, json!(false));
    let hash =
        rpc(&url, "eth_sendRawTransaction", json!([Bytes::from(raw.encoded_2718())])).await?;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let receipt = loop {
        let r = rpc(&url, "eth_getTransactionReceipt", json!([hash])).await?;
        if !r.is_null() {
            break r;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(eyre!("transaction never mined"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let number = u64::from_str_radix(
        receipt["blockNumber"].as_str().unwrap_or_default().trim_start_matches("0x"),
        16,
    )?;
    // same block (hash, state root) on every node
    let block_on = |n: &NodeHandle| {
        n.chain
            .reader()
            .ok()
            .and_then(|r| r.block(number).ok().flatten())
            .map(|b| (b.hash, b.header.state_root))
    };
    until("all nodes have the block", || nodes.iter().all(|n| block_on(n).is_some())).await?;
    let expected = block_on(&follower);
    assert!(expected.is_some());
    for n in &nodes {
        assert_eq!(block_on(n), expected, "validators and follower disagree at block {number}");
    }
    follower.stop().await?;
    for n in nodes {
        n.stop().await?;
    }
    Ok(())
}
