//! Store throughput on SQLite (file, WAL) and PostgreSQL:
//! - `save_single`: one writer, each save awaited before the next (latency-bound);
//! - `save_64_writers`: 64 concurrent writers (SQLite group commit / PostgreSQL pool);
//! - `find`: point lookups of existing payloads;
//! - `find_by_recipient_page`: a 100-row page of the recipient index.
//!
//! Throughput is reported per element (one save / one find). PostgreSQL runs against
//! `QRS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) in a fresh
//! database that is dropped afterwards; if unreachable, its groups are skipped with a warning.
//! Payloads are 1 KiB with 3 recipients.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qrs_tm_store::{
    PayloadCodec, PayloadStore, StoreOptions, StoreUrl, StoredPayload, Synchronous, open_store_with,
};
use rand::Rng as _;
use sqlx::{Connection as _, PgConnection};
use tokio::runtime::Runtime;

const WRITERS: u64 = 64;
const PREFILL: usize = 10_000;

fn payload(recipient: [u8; 32]) -> StoredPayload {
    let mut rng = rand::thread_rng();
    let mut hash = [0u8; 64];
    rng.fill(&mut hash[..]);
    let mut encoded_payload = vec![0u8; 1024];
    rng.fill(&mut encoded_payload[..]);
    let sender: [u8; 32] = rng.r#gen();
    StoredPayload {
        hash,
        encoded_payload,
        codec: PayloadCodec::Legacy,
        recipients: vec![sender, recipient, rng.r#gen()],
        sender,
        timestamp: 1_700_000_000_000,
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn bench_store(c: &mut Criterion, rt: &Runtime, name: &str, store: Arc<dyn PayloadStore>) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    group.warm_up_time(Duration::from_secs(2));

    let recipient: [u8; 32] = rand::thread_rng().r#gen();
    let s = Arc::clone(&store);
    group.bench_function("save_single", |b| {
        b.to_async(rt).iter(|| {
            let s = Arc::clone(&s);
            async move { s.save(payload(recipient)).await.expect("save") }
        })
    });

    let s = Arc::clone(&store);
    group.bench_function(BenchmarkId::new("save_writers", WRITERS), |b| {
        b.to_async(rt).iter_custom(|iters| {
            let s = Arc::clone(&s);
            async move {
                let per_writer = iters.div_ceil(WRITERS);
                let rows: Vec<Vec<StoredPayload>> = (0..WRITERS)
                    .map(|_| (0..per_writer).map(|_| payload(recipient)).collect())
                    .collect();
                let started = Instant::now();
                let writers: Vec<_> = rows
                    .into_iter()
                    .map(|mine| {
                        let s = Arc::clone(&s);
                        tokio::spawn(async move {
                            for p in mine {
                                s.save(p).await.expect("save");
                            }
                        })
                    })
                    .collect();
                for w in writers {
                    w.await.expect("writer task");
                }
                // Scale to the requested iteration count (per_writer * WRITERS >= iters).
                started.elapsed().mul_f64(iters as f64 / (per_writer * WRITERS) as f64)
            }
        })
    });

    let hashes: Vec<[u8; 64]> = rt.block_on(async {
        let rows: Vec<StoredPayload> = (0..PREFILL).map(|_| payload(recipient)).collect();
        let hashes = rows.iter().map(|p| p.hash).collect();
        for chunk in rows.chunks(500) {
            store.save_batch(chunk.to_vec()).await.expect("prefill");
        }
        hashes
    });
    let s = Arc::clone(&store);
    let mut next = 0usize;
    group.bench_function("find", |b| {
        b.to_async(rt).iter(|| {
            next = (next + 7919) % hashes.len();
            let hash = hashes[next];
            let s = Arc::clone(&s);
            async move { assert!(s.find(&hash).await.expect("find").is_some()) }
        })
    });

    group.throughput(Throughput::Elements(100));
    let s = Arc::clone(&store);
    group.bench_function("find_by_recipient_page_100", |b| {
        b.to_async(rt).iter(|| {
            let s = Arc::clone(&s);
            let after: [u8; 64] = {
                let mut h = [0u8; 64];
                h[0] = rand::thread_rng().r#gen_range(0..200);
                h
            };
            async move {
                assert_eq!(
                    s.find_by_recipient(&recipient, Some(after), 100).await.expect("page").len(),
                    100
                )
            }
        })
    });
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let rt = runtime();
    for (label, synchronous) in [("normal", Synchronous::Normal), ("full", Synchronous::Full)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = StoreUrl::Sqlite { path: dir.path().join("bench.db") };
        let options = StoreOptions { sqlite_synchronous: synchronous, ..StoreOptions::default() };
        let store = rt.block_on(open_store_with(&url, &options)).expect("open sqlite");
        bench_store(c, &rt, &format!("sqlite_{label}"), store);
    }
}

fn postgres(c: &mut Criterion) {
    let rt = runtime();
    let admin = std::env::var("QRS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let name = format!("qrs_store_bench_{:016x}", rand::thread_rng().r#gen::<u64>());
    let created = rt.block_on(async {
        let mut conn = PgConnection::connect(&admin).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
        conn.close().await
    });
    if let Err(e) = created {
        eprintln!(
            "\n!!!!!!!! WARNING: PostgreSQL at {admin} unavailable ({e}); PostgreSQL benches SKIPPED !!!!!!!!\n"
        );
        return;
    }
    let mut url = url::Url::parse(&admin).expect("admin url");
    url.set_path(&name);
    let store = rt
        .block_on(open_store_with(
            &StoreUrl::parse(url.as_str()).expect("url"),
            &StoreOptions::default(),
        ))
        .expect("open postgres");
    bench_store(c, &rt, "postgres", store);
    rt.block_on(async {
        let mut conn = PgConnection::connect(&admin).await.expect("admin connection");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("drop");
    });
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
