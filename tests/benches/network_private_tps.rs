//! Sustained private-transaction throughput of a 4-node QBFT network (1 s blocks) on this
//! machine, each member with its own `qtm`: SimpleStorage `set(n)` calls privateFor one party
//! and privateFor three parties.
//!
//! Transactions are pre-signed by this process the way a client without a node-held key sends
//! them (ethers v6 / web3js-quorum `generateAndSendRawTransaction`): `POST /storeraw` to the
//! sender's TM, sign with no chain id and `v` 37/38, then `eth_sendRawPrivateTransaction` with
//! `privateFor`, in JSON-RPC batches from several threads. Every member sends: member `m`'s
//! senders submit through node `m` (whose TM stored their payloads) to their own contract, which
//! member `m` deployed privately for the same parties (`m+1`, or `m+1..m+3`, mod 4). Latency is
//! `eth_sendRawPrivateTransaction` submission to inclusion in a block; the `/storeraw` step is
//! done before the timed run and reported on its own.
//!
//! Besides the network run it measures the TM round trips on their own (sequential latency and
//! 8-thread throughput of `/storeraw`, `/sendsignedtx` and `GET /transaction/{hash}` against
//! one qtm) so the cost split can be read next to the enclave and chain benches.
//!
//! ```text
//! cargo build --release --bins
//! cargo bench -p qrs-e2e --bench network_private_tps
//! ```
//! Knobs: `QRS_BENCH_SENDERS` (senders per member, default 100), `QRS_BENCH_PER_SENDER` (default
//! 25), `QRS_BENCH_TPS` (offered rate; default: as fast as accepted), `QRS_BENCH_ONLY` (`one` or
//! `three`), `QRS_BENCH_BATCH` (JSON-RPC batch size, default 200), `QRS_BENCH_THREADS`
//! (submitting connections, rounded up to a multiple of 4; default 8).
#![allow(clippy::print_stdout)] // the report is the bench's output

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::{SolCall, SolConstructor};
use eyre::eyre;
use qrs_contracts::bindings::SimpleStorage;
use qrs_e2e::{
    Consensus, Rpc, TestNet,
    cpu::CpuSnapshot,
    load::{LoadOptions, Workload, percentile, run},
    network::wait_for,
    private::{PrivateSigner, ThirdParty, base64, send_raw_private_params},
    qtm::Qtm,
};
use qrs_metrics::text::Sample;
use serde_json::{Value, json};

const MEMBERS: usize = 4;
const SET_GAS: u64 = 100_000;
const DEPLOY_GAS: u64 = 1_000_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Latency percentiles of a sample, and its throughput.
struct Timing {
    calls: usize,
    p50: Duration,
    p99: Duration,
    per_sec: f64,
}

impl Timing {
    fn of(mut samples: Vec<Duration>, wall: Duration) -> Self {
        samples.sort();
        Self {
            calls: samples.len(),
            p50: percentile(&samples, 0.5),
            p99: percentile(&samples, 0.99),
            per_sec: samples.len() as f64 / wall.as_secs_f64().max(1e-9),
        }
    }
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} calls, p50 {:?}, p99 {:?}, {:.0}/s",
            self.calls, self.p50, self.p99, self.per_sec
        )
    }
}

/// One timed call.
type Job<T> = Box<dyn FnOnce() -> eyre::Result<T> + Send>;

/// Jobs not yet taken, with their index.
type Queue<T> = Arc<Mutex<Vec<(usize, Job<T>)>>>;

/// Runs `jobs` on `threads` threads, timing each; returns the results in order and the timing.
fn timed_parallel<T: Send + 'static>(
    threads: usize,
    jobs: Vec<Job<T>>,
) -> eyre::Result<(Vec<T>, Timing)> {
    let n = jobs.len();
    let queue: Queue<T> = Arc::new(Mutex::new(jobs.into_iter().enumerate().rev().collect()));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let queue = queue.clone();
            std::thread::spawn(move || -> eyre::Result<Vec<(usize, T, Duration)>> {
                let mut out = Vec::new();
                loop {
                    let job = queue.lock().map_err(|_| eyre!("poisoned"))?.pop();
                    let Some((i, job)) = job else { return Ok(out) };
                    let t = Instant::now();
                    let v = job()?;
                    out.push((i, v, t.elapsed()));
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for h in handles {
        all.extend(h.join().map_err(|_| eyre!("worker panicked"))??);
    }
    let wall = started.elapsed();
    all.sort_by_key(|(i, _, _)| *i);
    let samples = all.iter().map(|(_, _, d)| *d).collect();
    Ok((all.into_iter().map(|(_, v, _)| v).collect(), Timing::of(samples, wall)))
}

/// A member's TM endpoints and key.
#[derive(Clone)]
struct Member {
    rpc: String,
    third_party: String,
    q2t: String,
    key: String,
}

/// Deploys SimpleStorage(`init`) from `deployer` through member `m` privateFor `to`; returns
/// the contract address once the deploy is mined with status 1.
fn deploy(
    members: &[Member],
    m: usize,
    deployer: &PrivateSigner,
    to: &[String],
    init: u64,
) -> eyre::Result<Address> {
    let code = qrs_contracts::simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(init) }.abi_encode());
    let tp = ThirdParty::new(&members[m].third_party)?;
    let hash = tp.store_raw(&code, &members[m].key)?;
    let raw = deployer.sign(0, TxKind::Create, &hash, DEPLOY_GAS)?;
    let rpc = Rpc::new(&members[m].rpc)?;
    let tx: B256 = rpc.req("eth_sendRawPrivateTransaction", send_raw_private_params(&raw, to))?;
    let receipt = rpc.wait_receipt(tx, Duration::from_secs(60))?;
    if receipt["status"] != json!("0x1") {
        return Err(eyre!("private deploy failed: {receipt}"));
    }
    Ok(deployer.address().create(0))
}

/// Recipients of member `m`'s transactions: the next `parties` members.
fn recipients(members: &[Member], m: usize, parties: usize) -> Vec<String> {
    (1..=parties).map(|d| members[(m + d) % members.len()].key.clone()).collect()
}

/// Direct TM round trips against member 0's qtm (recipient: member 1), `n` calls each,
/// sequential then on 8 threads.
fn tm_round_trips(members: &[Member], n: usize) -> eyre::Result<()> {
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let payload = SimpleStorage::setCall { x: U256::from(7u64) }.abi_encode();
    for threads in [1usize, 8] {
        let tp0 = ThirdParty::new(&members[0].third_party)?;
        let mk_store = |i: usize| -> Job<Vec<u8>> {
            let tp = tp0.clone();
            let key = members[0].key.clone();
            let mut p = payload.clone();
            p.extend_from_slice(&(i as u64 ^ ((threads as u64) << 32)).to_be_bytes());
            Box::new(move || tp.store_raw(&p, &key))
        };
        let (hashes, store) = timed_parallel(threads, (0..n).map(mk_store).collect())?;
        let send_jobs = hashes
            .iter()
            .map(|h| -> Job<()> {
                let client = client.clone();
                let url = format!("{}/sendsignedtx", members[0].q2t);
                let body = json!({"hash": base64(h), "to": [members[1].key]});
                Box::new(move || {
                    let res = client.post(url).json(&body).send()?;
                    if !res.status().is_success() {
                        return Err(eyre!("/sendsignedtx: {} {}", res.status(), res.text()?));
                    }
                    Ok(())
                })
            })
            .collect();
        let (_, send) = timed_parallel(threads, send_jobs)?;
        let recv_jobs = hashes
            .iter()
            .map(|h| -> Job<()> {
                let client = client.clone();
                let escaped = base64(h).replace('/', "%2F").replace('+', "%2B");
                // the recipient's TM decrypts what member 0 pushed to it
                let url = format!("{}/transaction/{escaped}?isRaw=false", members[1].q2t);
                Box::new(move || {
                    let res = client.get(url).header("Accept", "application/json").send()?;
                    if !res.status().is_success() {
                        return Err(eyre!("receive: {} {}", res.status(), res.text()?));
                    }
                    Ok(())
                })
            })
            .collect();
        let (_, recv) = timed_parallel(threads, recv_jobs)?;
        println!(
            "TM round trips ({threads} thread(s)): /storeraw {store}; /sendsignedtx (1 recipient, push included) {send}; receive (recipient decrypts) {recv}"
        );
    }
    Ok(())
}

/// Requests and mean time in qtm per endpoint, over every member's qtm (`p2p` URLs, where
/// `/metrics` is served), since `before` (the scrape the previous call returned).
fn tm_endpoint_times(p2p: &[String], before: &[Sample]) -> eyre::Result<(Vec<Sample>, String)> {
    let mut now = Vec::new();
    for url in p2p {
        let text = reqwest::blocking::get(format!("{url}/metrics"))?.text()?;
        now.extend(qrs_metrics::text::parse(&text)?);
    }
    let total = |samples: &[Sample], name: &str, app: &str, endpoint: &str| -> f64 {
        samples
            .iter()
            .filter(|s| {
                s.name == name
                    && s.label("app") == Some(app)
                    && s.label("endpoint") == Some(endpoint)
            })
            .map(|s| s.value)
            .sum()
    };
    let mut parts = Vec::new();
    for (app, endpoint) in [
        ("ThirdParty", "/storeraw"),
        ("Q2T", "/sendsignedtx"),
        ("P2P", "/push"),
        ("P2P", "/pushBatch"),
        ("Q2T", "/receiveBatch"),
    ] {
        let count = total(&now, "qtm_request_duration_count", app, endpoint)
            - total(before, "qtm_request_duration_count", app, endpoint);
        let sum = total(&now, "qtm_request_duration_sum", app, endpoint)
            - total(before, "qtm_request_duration_sum", app, endpoint);
        if count > 0.0 {
            parts.push(format!("{endpoint} {count:.0} × {:.2} ms", sum / count / 1e6));
        }
    }
    Ok((now, format!("qtm requests served (all 4, mean time in qtm): {}", parts.join(", "))))
}

fn main() -> eyre::Result<()> {
    let per_member = env_or("QRS_BENCH_SENDERS", 100usize);
    let per_sender = env_or("QRS_BENCH_PER_SENDER", 25u64);
    let batch = env_or("QRS_BENCH_BATCH", 200usize);
    // a multiple of the member count, so each submitting thread serves one member's senders
    let threads = env_or("QRS_BENCH_THREADS", 2 * MEMBERS).div_ceil(MEMBERS) * MEMBERS;
    let target_tps: Option<f64> = std::env::var("QRS_BENCH_TPS").ok().and_then(|v| v.parse().ok());
    let only = std::env::var("QRS_BENCH_ONLY").unwrap_or_default();

    let node_args = qrs_e2e::network::bench_node_args();
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 4 };
    let edit = |g: &mut Value| g["gasLimit"] = json!("0x3b9aca00");
    let mut net = TestNet::start_with_args(consensus, MEMBERS, MEMBERS, MEMBERS, edit, &node_args)?;
    net.wait_for_height(1, Duration::from_secs(30))?;
    let members: Vec<Member> = (0..MEMBERS)
        .map(|i| Member {
            rpc: net.node(i).http_url().to_string(),
            third_party: net.tms[i].third_party.clone(),
            q2t: net.tms[i].q2t.clone(),
            key: net.tms[i].public_key.clone(),
        })
        .collect();
    let urls: Vec<String> = members.iter().map(|m| m.rpc.clone()).collect();

    tm_round_trips(&members, 500)?;

    for (case, parties) in [("one", 1usize), ("three", 3usize)] {
        if !only.is_empty() && only != case {
            continue;
        }
        // one contract per sending member, private to the same parties as its senders' sets
        let mut contracts = Vec::new();
        for m in 0..MEMBERS {
            let key = keccak256(format!("qrs private bench {case} deployer {m}"));
            let deployer = PrivateSigner::from_key(key)?;
            contracts.push(deploy(&members, m, &deployer, &recipients(&members, m, parties), 1)?);
        }
        // sender s belongs to member s % 4: with a multiple of 4 submit threads, load::run's
        // thread t (node t % 4) gets exactly the senders whose payloads its member's TM holds
        let senders: Vec<PrivateSigner> = (0..MEMBERS * per_member)
            .map(|s| PrivateSigner::from_key(keccak256(format!("qrs private bench {case} {s}"))))
            .collect::<eyre::Result<_>>()?;
        let tps: Vec<ThirdParty> =
            members.iter().map(|m| ThirdParty::new(&m.third_party)).collect::<eyre::Result<_>>()?;
        let store_jobs: Vec<Job<Vec<u8>>> = (0..senders.len())
            .flat_map(|s| (0..per_sender).map(move |n| (s, n)))
            .map(|(s, n)| -> Job<Vec<u8>> {
                let m = s % MEMBERS;
                let tp = tps[m].clone();
                let key = members[m].key.clone();
                let value = U256::from(s as u64 * 1_000_000 + n + 1);
                let payload = SimpleStorage::setCall { x: value }.abi_encode();
                Box::new(move || tp.store_raw(&payload, &key))
            })
            .collect();
        let (hashes, store) = timed_parallel(2 * MEMBERS, store_jobs)?;
        let mut txs = Vec::with_capacity(senders.len());
        let mut private_for = Vec::with_capacity(senders.len());
        let mut hashes = hashes.into_iter();
        for (s, signer) in senders.iter().enumerate() {
            let m = s % MEMBERS;
            let mut list = Vec::with_capacity(per_sender as usize);
            for n in 0..per_sender {
                let h = hashes.next().ok_or_else(|| eyre!("missing TM hash"))?;
                let raw = signer.sign(n, TxKind::Call(contracts[m]), &h, SET_GAS)?;
                list.push((keccak256(&raw), raw));
            }
            txs.push(list);
            private_for.push(Some(recipients(&members, m, parties)));
        }
        let total: u64 = txs.iter().map(|l| l.len() as u64).sum();
        let work = Workload { senders: Vec::new(), txs, private_for };
        let opts = LoadOptions { threads, batch, target_tps, deadline: Duration::from_secs(240) };
        let pids = |pids: Vec<Option<u32>>| -> Vec<String> {
            pids.into_iter().flatten().map(|p| p.to_string()).collect()
        };
        let groups = [
            ("4 qnodes", pids((0..MEMBERS).map(|i| net.node(i).pid()).collect())),
            ("4 qtms", pids(net.tms.iter().map(Qtm::pid).collect())),
            ("bench", vec!["self".to_owned()]),
        ];
        let p2p: Vec<String> = net.tms.iter().map(|t| t.p2p.clone()).collect();
        let (tm_before, _) = tm_endpoint_times(&p2p, &[])?;
        let cpu_before = CpuSnapshot::take(&groups)?;
        let r = run(&urls, &work, opts)?;
        let cpu = CpuSnapshot::take(&groups)?.report_since(&cpu_before, total, "transaction");
        let (_, tm_times) = tm_endpoint_times(&p2p, &tm_before)?;
        let common = net.assert_no_fork()?;
        // the last set of member 0's first sender executed privately on a recipient
        let last: &(B256, Bytes) = work.txs[0].last().ok_or_else(|| eyre!("no transactions"))?;
        let party = Rpc::new(&members[1].rpc)?;
        let receipt = wait_for(Duration::from_secs(30), "the party's receipt", || {
            party.receipt(last.0).ok().filter(|r| !r.is_null())
        })?;
        let logs = receipt["logs"].as_array().map(Vec::len).unwrap_or(0);
        if receipt["status"] != json!("0x1") || logs != 1 {
            return Err(eyre!("the private set did not execute on its recipient: {receipt}"));
        }
        println!(
            "private set, privateFor {parties} part{} (4-node QBFT, 1 s blocks): {r}; \
             /storeraw beforehand: {store}; all nodes agree up to block {common}\n  {cpu}\n  {tm_times}",
            if parties == 1 { "y" } else { "ies" },
        );
    }
    Ok(())
}
