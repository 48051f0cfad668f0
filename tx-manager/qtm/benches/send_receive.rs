//! Throughput of real `qtm` processes on loopback: `/send` with 1 and 3 recipients and
//! `/transaction/{hash}` receives per second, with 2 and 4 nodes, on SQLite and PostgreSQL;
//! then where the time goes (HTTP round trip, enclave encryption, store writes) measured
//! separately.
//!
//! `cargo bench -p qrs-qtm --bench send_receive` (env: `QTM_BENCH_SECS`, default 4;
//! `QTM_BENCH_CONCURRENCY`, default 64; `QTM_BENCH_DBS`, default `sqlite,postgres`).
#![allow(clippy::print_stdout)] // a bench binary reports on stdout

#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use eyre::{Result, bail};
use harness::{
    Db, Node, NodeOptions, b64, fresh_postgres_schema, http, path_escape, wait_for_discovery,
};
use qrs_enclave::{
    Enclave, EnclaveConfig, KeyPair, LocalEnclave, PrivacyMetadata, PrivateKey, PublicKey,
};
use qrs_tm_store::{PayloadCodec, StoreUrl, StoredPayload, open_store};
use serde_json::json;

fn secs() -> f64 {
    std::env::var("QTM_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(4.0)
}

fn concurrency() -> usize {
    std::env::var("QTM_BENCH_CONCURRENCY").ok().and_then(|s| s.parse().ok()).unwrap_or(64)
}

/// Runs `op` from `concurrency()` tasks for `secs()` seconds; returns (ops/s, errors).
async fn throughput<F, Fut>(op: F) -> (f64, u64)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency() {
        let (op, stop, done, errors) = (op.clone(), stop.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = (worker as u64) << 32;
            while !stop.load(Ordering::Relaxed) {
                match op(i).await {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs())).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    (done.load(Ordering::Relaxed) as f64 / elapsed, errors.load(Ordering::Relaxed))
}

struct Net {
    nodes: Vec<Node>,
    one: Vec<PublicKey>,
    three: Vec<PublicKey>,
}

async fn network(db: &str, n: usize) -> Result<Net> {
    let db_for = |i: usize| -> Db {
        match db {
            "postgres" => Db::Postgres(format!("qtm_bench_{n}_{i}")),
            _ => Db::Sqlite,
        }
    };
    if db == "postgres" {
        for i in 0..n {
            fresh_postgres_schema(&format!("qtm_bench_{n}_{i}")).await?;
        }
    }
    let base = NodeOptions {
        log_filter: "warn".into(),
        party_info_interval_ms: 2000,
        ..NodeOptions::default()
    };
    let a = Node::start(NodeOptions { db: db_for(0), ..base.clone() }).await?;
    let mut nodes = vec![a];
    for i in 1..n {
        let keys = if n == 2 { 3 } else { 1 };
        let peer = nodes[0].p2p.clone();
        nodes.push(
            Node::start(NodeOptions { db: db_for(i), keys, peers: vec![peer], ..base.clone() })
                .await?,
        );
    }
    wait_for_discovery(&nodes.iter().collect::<Vec<_>>()).await?;
    let one = vec![nodes[1].key()];
    let three =
        if n == 2 { nodes[1].keys.clone() } else { nodes[1..4].iter().map(Node::key).collect() };
    Ok(Net { nodes, one, three })
}

async fn send_once(q2t: &str, from: PublicKey, to: &[PublicKey], i: u64) -> Result<String> {
    let payload = format!(
        "bench payload {i} ----------------------------------------------------------------"
    );
    let resp = http()
        .post(format!("{q2t}/send"))
        .json(&json!({"payload": b64(payload.as_bytes()), "from": from, "to": to}))
        .send()
        .await?;
    if resp.status().as_u16() != 201 {
        bail!("send failed: {}", resp.status());
    }
    let v: serde_json::Value = resp.json().await?;
    Ok(v["key"].as_str().unwrap_or_default().to_owned())
}

async fn bench_network(db: &str, n: usize) -> Result<()> {
    let net = network(db, n).await?;
    let a_q2t = net.nodes[0].q2t.clone();
    let from = net.nodes[0].key();
    let client = http();
    for (label, to) in [("1 recipient", net.one.clone()), ("3 recipients", net.three.clone())] {
        let q2t = a_q2t.clone();
        let (rate, errors) = throughput(move |i| {
            let (q2t, to) = (q2t.clone(), to.clone());
            async move { send_once(&q2t, from, &to, i).await.map(|_| ()) }
        })
        .await;
        println!("| {db:8} | {n} nodes | /send {label:12} | {rate:8.0} /s | errors {errors} |");
    }
    // Receive on the recipient node: hashes of 200 fresh sends.
    let mut hashes = Vec::new();
    for i in 0..200 {
        hashes.push(send_once(&a_q2t, from, &net.one, i).await?);
    }
    let hashes = Arc::new(hashes);
    let b_q2t = net.nodes[1].q2t.clone();
    let (rate, errors) = throughput(move |i| {
        let (client, hashes, q2t) = (client.clone(), hashes.clone(), b_q2t.clone());
        async move {
            let hash = &hashes[(i as usize) % hashes.len()];
            let resp =
                client.get(format!("{q2t}/transaction/{}", path_escape(hash))).send().await?;
            if resp.status().as_u16() != 200 {
                bail!("receive failed: {}", resp.status());
            }
            resp.bytes().await?;
            Ok(())
        }
    })
    .await;
    println!("| {db:8} | {n} nodes | /transaction receive | {rate:8.0} /s | errors {errors} |");
    Ok(())
}

/// Where the time goes: each part measured alone.
async fn breakdown() -> Result<()> {
    // HTTP round trip: /upcheck on a running qtm.
    let node =
        Node::start(NodeOptions { log_filter: "warn".into(), ..NodeOptions::default() }).await?;
    let q2t = node.q2t.clone();
    let client = http();
    let (rate, _) = throughput(move |_| {
        let (client, q2t) = (client.clone(), q2t.clone());
        async move {
            client.get(format!("{q2t}/upcheck")).send().await?.bytes().await?;
            Ok(())
        }
    })
    .await;
    println!(
        "| part | HTTP round trip (GET /upcheck, {} clients) | {rate:8.0} /s |",
        concurrency()
    );

    // Enclave: encrypt_payload in process, one core.
    let sender = KeyPair::from_private(PrivateKey::generate());
    let sender_pub = sender.public;
    let enclave =
        LocalEnclave::new(EnclaveConfig { keys: vec![sender], ..EnclaveConfig::default() })?;
    let recipients: Vec<PublicKey> =
        (0..3).map(|_| KeyPair::from_private(PrivateKey::generate()).public).collect();
    for count in [1usize, 3] {
        let n = 5000;
        let start = Instant::now();
        for _ in 0..n {
            enclave
                .encrypt_payload(
                    &[7u8; 100],
                    sender_pub,
                    &recipients[..count],
                    &PrivacyMetadata::standard(),
                )
                .await?;
        }
        let rate = f64::from(n) / start.elapsed().as_secs_f64();
        println!(
            "| part | enclave encrypt_payload ({count} recipient(s) + sender, 1 core) | {rate:8.0} /s |"
        );
    }

    // Store: concurrent saves.
    let dir = tempfile::tempdir()?;
    for (label, url) in [
        ("SQLite", StoreUrl::Sqlite { path: dir.path().join("bench.sqlite") }),
        ("PostgreSQL", {
            fresh_postgres_schema("qtm_bench_store").await?;
            StoreUrl::parse(&harness::postgres_url("qtm_bench_store"))?
        }),
    ] {
        let store = open_store(&url).await?;
        let (rate, errors) = throughput(move |i| {
            let store = store.clone();
            async move {
                let mut hash = [0u8; 64];
                hash[..8].copy_from_slice(&i.to_be_bytes());
                hash[8..16].copy_from_slice(&rand_u64().to_be_bytes());
                store
                    .save(StoredPayload {
                        hash,
                        encoded_payload: vec![1; 400],
                        codec: PayloadCodec::Legacy,
                        recipients: vec![[1; 32], [2; 32]],
                        sender: [2; 32],
                        timestamp: 0,
                    })
                    .await?;
                Ok(())
            }
        })
        .await;
        println!(
            "| part | store save ({label}, {} writers) | {rate:8.0} /s | errors {errors} |",
            concurrency()
        );
    }
    Ok(())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; nothing to parse.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let dbs = std::env::var("QTM_BENCH_DBS").unwrap_or_else(|_| "sqlite,postgres".into());
        println!(
            "qtm loopback throughput ({}s per row, {} concurrent clients)",
            secs(),
            concurrency()
        );
        println!("| store    | nodes   | operation            | rate        |");
        for db in dbs.split(',') {
            for n in [2, 4] {
                bench_network(db, n).await?;
            }
        }
        breakdown().await
    })
}
