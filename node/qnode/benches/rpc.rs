//! JSON-RPC round trips per second over HTTP on loopback against a whole in-process dev node
//! (`launch(NodeConfig::dev_test(..))`: MDBX chain, dev engine, jsonrpsee server).
//!
//! - `eth_call` of `SimpleStorage.get()` on a contract deployed with `eth_sendTransaction`;
//! - `eth_getBalance` of the dev account at `latest`;
//!
//! each with 1 and with 16 concurrent clients. A client is its own `reqwest::Client` (one
//! keep-alive connection) issuing requests back to back. The node runs on its own 2-worker
//! tokio runtime, the clients on another 2-worker runtime (the machine has 2 cores, so the
//! figures include the client's CPU). Criterion reports requests per second ("elem/s").
//!
//! Run: `cargo bench -p qrs-node --bench rpc`

use std::time::{Duration, Instant};

use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qrs_contracts::{bindings::SimpleStorage, simple_storage};
use qrs_node::{NodeConfig, NodeHandle, dev_address, launch};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

const STORED: u64 = 42;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn rpc(client: &reqwest::Client, url: &str, body: &str) -> Value {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let value: Value = response.json().await.expect("json reply");
    assert!(value.get("error").is_none(), "RPC error: {value}");
    value["result"].clone()
}

fn request(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}

/// Deploys SimpleStorage(42) from the unlocked dev account and waits for the receipt.
async fn deploy(client: &reqwest::Client, url: &str) -> Address {
    let data = simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(STORED) }.abi_encode());
    let tx = json!({"from": dev_address(), "data": data, "gas": "0x200000"});
    let hash = rpc(client, url, &request("eth_sendTransaction", json!([tx]))).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let receipt = rpc(client, url, &request("eth_getTransactionReceipt", json!([hash]))).await;
        if let Some(address) = receipt.get("contractAddress").and_then(Value::as_str) {
            return address.parse().expect("contract address");
        }
        assert!(Instant::now() < deadline, "deployment not mined in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `iters` requests spread over `clients.len()` concurrent clients; returns the wall time.
fn run(rt: &Runtime, clients: &[reqwest::Client], url: &str, body: &str, iters: u64) -> Duration {
    let n = clients.len() as u64;
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(i, client)| {
                let count = iters / n + u64::from((i as u64) < iters % n);
                let (client, url, body) = (client.clone(), url.to_owned(), body.to_owned());
                tokio::spawn(async move {
                    for _ in 0..count {
                        rpc(&client, &url, &body).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("client task");
        }
        start.elapsed()
    })
}

fn rpc_round_trips(c: &mut Criterion) {
    let node_rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let node: NodeHandle =
        node_rt.block_on(launch(NodeConfig::dev_test(dir.path().to_path_buf()))).expect("launch");
    let url = node.http_url().expect("http endpoint");
    let client_rt = runtime();
    let probe = reqwest::Client::new();
    let contract = client_rt.block_on(deploy(&probe, &url));

    let get =
        format!("0x{}", alloy_primitives::hex::encode(SimpleStorage::getCall {}.abi_encode()));
    let call = request("eth_call", json!([{"to": contract, "data": get}, "latest"]));
    let balance = request("eth_getBalance", json!([dev_address(), "latest"]));
    // the measured requests return the right answers
    let out = client_rt.block_on(rpc(&probe, &url, &call));
    assert_eq!(
        out.as_str().and_then(|s| U256::from_str_radix(s.trim_start_matches("0x"), 16).ok()),
        Some(U256::from(STORED))
    );
    let out = client_rt.block_on(rpc(&probe, &url, &balance));
    assert!(out.as_str().is_some_and(|s| s.starts_with("0x") && s.len() > 3), "balance: {out}");

    let mut group = c.benchmark_group("rpc_http");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(1));
    for (name, body) in [("eth_call", &call), ("eth_getBalance", &balance)] {
        for concurrency in [1usize, 16] {
            let clients: Vec<reqwest::Client> =
                (0..concurrency).map(|_| reqwest::Client::new()).collect();
            group.bench_with_input(
                BenchmarkId::new(name, format!("{concurrency}_clients")),
                body,
                |b, body| b.iter_custom(|iters| run(&client_rt, &clients, &url, body, iters)),
            );
        }
    }
    group.finish();
    drop(client_rt);
    node_rt.block_on(node.stop()).expect("stop node");
}

criterion_group!(benches, rpc_round_trips);
criterion_main!(benches);
