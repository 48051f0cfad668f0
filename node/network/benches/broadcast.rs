//! Batched transaction broadcast between 2 and 4 real nodes on loopback (TCP + noise + yamux).
//!
//! Node 0 broadcasts bursts of `Topic::Transactions` messages; every other node decodes each
//! batch. One iteration = one burst fully delivered to every receiver. Criterion reports
//! delivered transactions per second (per receiver); at the end each case prints the process
//! CPU time per delivered message and per delivered transaction (all nodes share this process,
//! so it is the whole cluster's cost: sender + receivers).
//!
//! `cargo bench -p qrs-network --bench broadcast`

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qrs_network::{
    NetworkConfig, NetworkEvent, NetworkHandle, NodeKey, Topic, decode_tx_batch, encode_tx_batch,
    spawn,
};
use tokio::{runtime::Runtime, sync::Notify};

const TX_BYTES: usize = 200;
const BURST: usize = 200;

fn cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid pointer to a timespec; CLOCK_PROCESS_CPUTIME_ID is always supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct Cluster {
    sender: NetworkHandle,
    _others: Vec<NetworkHandle>,
    delivered_txs: Arc<AtomicU64>,
    delivered_msgs: Arc<AtomicU64>,
    progress: Arc<Notify>,
    receivers: usize,
}

async fn cluster(n: usize) -> Cluster {
    let mut handles: Vec<NetworkHandle> = Vec::new();
    for _ in 0..n {
        let mut c = NetworkConfig::new("127.0.0.1:0".parse().unwrap());
        c.static_nodes = handles.iter().map(|h| h.local_enode()).collect();
        c.peer_queue_len = 4 * BURST;
        let (h, _) = spawn(NodeKey::generate(), c).await.unwrap();
        handles.push(h);
    }
    while handles.iter().any(|h| h.peers().len() != n - 1) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered_txs = Arc::new(AtomicU64::new(0));
    let delivered_msgs = Arc::new(AtomicU64::new(0));
    let progress = Arc::new(Notify::new());
    for h in handles.iter().skip(1) {
        let mut rx = h.events();
        let (txs, msgs, progress) =
            (delivered_txs.clone(), delivered_msgs.clone(), progress.clone());
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                if let NetworkEvent::Message { topic: Topic::Transactions, bytes, .. } = ev {
                    let batch = decode_tx_batch(bytes).unwrap();
                    txs.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    msgs.fetch_add(1, Ordering::Relaxed);
                    progress.notify_one();
                }
            }
        });
    }
    let sender = handles.remove(0);
    Cluster { sender, _others: handles, delivered_txs, delivered_msgs, progress, receivers: n - 1 }
}

impl Cluster {
    /// Sends one burst and waits until every receiver decoded all of it.
    async fn burst(&self, message: &Bytes, txs_per_msg: usize) {
        let target = self.delivered_txs.load(Ordering::Relaxed)
            + (BURST * txs_per_msg * self.receivers) as u64;
        for _ in 0..BURST {
            let queued = self.sender.broadcast(Topic::Transactions, message.clone()).unwrap();
            assert_eq!(queued, self.receivers);
        }
        while self.delivered_txs.load(Ordering::Relaxed) < target {
            let _ = tokio::time::timeout(Duration::from_millis(5), self.progress.notified()).await;
        }
    }
}

fn bench_broadcast(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let mut group = c.benchmark_group("tx_broadcast");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for nodes in [2usize, 4] {
        let cluster = rt.block_on(cluster(nodes));
        for txs_per_msg in [1usize, 100, 1000] {
            let batch: Vec<Bytes> =
                (0..txs_per_msg).map(|i| Bytes::from(vec![i as u8; TX_BYTES])).collect();
            let message = encode_tx_batch(&batch);
            group.throughput(Throughput::Elements((BURST * txs_per_msg) as u64));
            let (cpu0, msgs0, txs0) = (
                cpu_time(),
                cluster.delivered_msgs.load(Ordering::Relaxed),
                cluster.delivered_txs.load(Ordering::Relaxed),
            );
            let wall0 = Instant::now();
            group.bench_function(format!("{nodes}_nodes/{txs_per_msg}_tx_per_msg"), |b| {
                b.to_async(&rt).iter(|| cluster.burst(&message, txs_per_msg))
            });
            let cpu = cpu_time() - cpu0;
            let wall = wall0.elapsed();
            let msgs = cluster.delivered_msgs.load(Ordering::Relaxed) - msgs0;
            let txs = cluster.delivered_txs.load(Ordering::Relaxed) - txs0;
            eprintln!(
                "  {nodes} nodes, {txs_per_msg} tx/msg ({} B/msg): {msgs} msgs / {txs} txs delivered; \
                 CPU {:.2} µs/delivered msg, {:.3} µs/delivered tx; cluster CPU load {:.2} cores",
                message.len(),
                cpu.as_secs_f64() * 1e6 / msgs as f64,
                cpu.as_secs_f64() * 1e6 / txs as f64,
                cpu.as_secs_f64() / wall.as_secs_f64(),
            );
        }
        for h in std::iter::once(&cluster.sender).chain(&cluster._others) {
            h.shutdown();
        }
    }
    group.finish();
}

/// One consensus-sized message to a peer and its echo back: the latency QBFT rounds pay per hop.
fn bench_consensus_round_trip(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let (a, b, replies) = rt.block_on(async {
        let (a, _) = spawn(NodeKey::generate(), NetworkConfig::new("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
        let mut cb = NetworkConfig::new("127.0.0.1:0".parse().unwrap());
        cb.static_nodes = vec![a.local_enode()];
        let (b, _) = spawn(NodeKey::generate(), cb).await.unwrap();
        while a.peers().len() != 1 || b.peers().len() != 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut b_events = b.events();
        let echo = b.clone();
        tokio::spawn(async move {
            while let Some(ev) = b_events.recv().await {
                if let NetworkEvent::Message { from, topic: Topic::Consensus, bytes } = ev {
                    echo.send(from, Topic::Consensus, bytes).unwrap();
                }
            }
        });
        let replies = Arc::new(tokio::sync::Mutex::new(a.events()));
        (a, b, replies)
    });
    let b_id = b.peers()[0].peer_id;
    let b_peer = a.peers()[0].peer_id;
    assert_ne!(b_id, b_peer);
    let msg = Bytes::from(vec![0x13; 200]); // a QBFT PREPARE is ~150-200 bytes
    let mut group = c.benchmark_group("consensus");
    group.sample_size(20).measurement_time(Duration::from_secs(4));
    let cpu0 = cpu_time();
    let mut trips = 0u64;
    group.bench_function("round_trip_200B", |bench| {
        bench.to_async(&rt).iter(|| {
            trips += 1;
            let (a, msg, replies) = (&a, msg.clone(), replies.clone());
            async move {
                let mut replies = replies.lock().await;
                a.send(b_peer, Topic::Consensus, msg).unwrap();
                loop {
                    if let Some(NetworkEvent::Message { topic: Topic::Consensus, .. }) =
                        replies.recv().await
                    {
                        break;
                    }
                }
            }
        })
    });
    eprintln!(
        "  consensus round trip: CPU {:.1} µs per round trip (both nodes)",
        cpu_time().saturating_sub(cpu0).as_secs_f64() * 1e6 / trips as f64
    );
    group.finish();
    a.shutdown();
    b.shutdown();
}

criterion_group!(benches, bench_broadcast, bench_consensus_round_trip);
criterion_main!(benches);
