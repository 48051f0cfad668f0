//! A load generator for multi-node benchmarks: ERC-20 (`QrsToken`) transfers from many senders
//! pre-funded in the genesis, pre-signed, submitted in JSON-RPC batches over HTTP from several
//! threads (each sender's transactions in nonce order through one node), with inclusion tracked
//! by following new blocks. Reports offered and achieved TPS and submission-to-inclusion latency
//! percentiles. A workload can also carry raw private transactions ([`Workload::private_for`]),
//! sent with `eth_sendRawPrivateTransaction`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::SolCall;
use eyre::eyre;
use qrs_contracts::bindings::QrsToken;
use serde_json::{Value, json};

use crate::{rpc::Rpc, wallet::Wallet};

/// Where the bench token lives (its runtime code is written into the genesis).
pub const BENCH_TOKEN: Address = Address::new([0x70; 20]);
/// Gas limit of one transfer transaction.
const TRANSFER_GAS: u64 = 100_000;

/// Senders funded in the genesis and the pre-signed transfers they send.
#[derive(Debug)]
pub struct Workload {
    /// Sender wallets.
    pub senders: Vec<Wallet>,
    /// Per sender, its signed transfers in nonce order: `(hash, raw)`.
    pub txs: Vec<Vec<(B256, Bytes)>>,
    /// Per sender, `Some(privateFor)` when its transactions are raw private ones (sent with
    /// `eth_sendRawPrivateTransaction`); empty or `None` = public `eth_sendRawTransaction`.
    pub private_for: Vec<Option<Vec<String>>>,
}

impl Workload {
    /// `senders` deterministic keys, each signing `per_sender` transfers to fresh recipients.
    pub fn new(senders: usize, per_sender: u64, chain_id: u64) -> eyre::Result<Self> {
        let mut wallets = Vec::with_capacity(senders);
        let mut txs = Vec::with_capacity(senders);
        for i in 0..senders {
            let key = keccak256(format!("qrs bench sender {i}").as_bytes());
            let w = Wallet::from_key(key, chain_id)?;
            let mut list = Vec::with_capacity(per_sender as usize);
            for nonce in 0..per_sender {
                let mut seed = [0u8; 16];
                seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
                seed[8..].copy_from_slice(&nonce.to_be_bytes());
                let to = Address::from_slice(&keccak256(seed)[12..]);
                let input = QrsToken::transferCall { to, value: U256::from(1u64) }.abi_encode();
                let tx = w.legacy(
                    nonce,
                    alloy_primitives::TxKind::Call(BENCH_TOKEN),
                    U256::ZERO,
                    input.into(),
                    TRANSFER_GAS,
                );
                let raw = w.sign_legacy(tx)?;
                list.push((keccak256(&raw), raw));
            }
            wallets.push(w);
            txs.push(list);
        }
        Ok(Self { senders: wallets, txs, private_for: Vec::new() })
    }

    /// Adds the token (code, total supply, a balance per sender) to a genesis JSON.
    pub fn fund_in_genesis(&self, genesis: &mut Value) {
        let per_sender = U256::from(10u128.pow(24));
        let mut storage = serde_json::Map::new();
        let total = per_sender * U256::from(self.senders.len());
        storage.insert(format!("{:#066x}", U256::ZERO), json!(format!("{:#066x}", total)));
        for w in &self.senders {
            let mut preimage = [0u8; 64];
            preimage[12..32].copy_from_slice(w.address().as_slice());
            preimage[63] = 1; // balanceOf is slot 1
            storage
                .insert(format!("{}", keccak256(preimage)), json!(format!("{:#066x}", per_sender)));
        }
        let code = qrs_contracts::qrs_token().deployed_bytecode.clone();
        genesis["alloc"][format!("{BENCH_TOKEN:#x}")] =
            json!({"balance": "0x0", "code": code.to_string(), "storage": storage});
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.txs.iter().map(Vec::len).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Transactions submitted.
    pub submitted: usize,
    /// Of those, included in a block before the deadline.
    pub included: usize,
    /// Submitted per second (first to last submission).
    pub offered_tps: f64,
    /// Included per second (first submission to last inclusion).
    pub achieved_tps: f64,
    /// Submission-to-inclusion latency percentiles.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Rejected submissions (JSON-RPC errors), with the first message.
    pub rejected: usize,
    /// The first rejection message, if any.
    pub first_error: Option<String>,
    /// How long one JSON-RPC batch took to be answered: median and 99th percentile.
    pub batch_rpc: (Duration, Duration),
}

/// The benches' one-line summary: counts, rates and latency percentiles.
impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = self.first_error.as_ref().map(|e| format!(" (first: {e})")).unwrap_or_default();
        write!(
            f,
            "{} txs submitted, {} included, {} rejected{first}; offered {:.0} tx/s, achieved {:.0} tx/s; \
             latency p50 {:?} p90 {:?} p99 {:?}; one batch answered in p50 {:?} p99 {:?}",
            self.submitted,
            self.included,
            self.rejected,
            self.offered_tps,
            self.achieved_tps,
            self.p50,
            self.p90,
            self.p99,
            self.batch_rpc.0,
            self.batch_rpc.1,
        )
    }
}

/// How to submit.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Submitting threads (each uses one node, round robin).
    pub threads: usize,
    /// Transactions per JSON-RPC batch.
    pub batch: usize,
    /// Offered rate over all threads; `None` = as fast as the nodes accept.
    pub target_tps: Option<f64>,
    /// Longest wait for every transaction to be included.
    pub deadline: Duration,
}

/// A transaction to submit: hash, raw bytes, and `privateFor` when it is a raw private one.
type Queued = (B256, Bytes, Option<Vec<String>>);

/// Submits `work` through `urls` and waits until every transaction is included (seen in a
/// block of `urls[0]`) or the deadline passes.
pub fn run(urls: &[String], work: &Workload, opts: LoadOptions) -> eyre::Result<LoadReport> {
    let LoadOptions { threads, batch, target_tps, deadline } = opts;
    if urls.is_empty() {
        return Err(eyre!("no node URLs"));
    }
    let submitted_at: Arc<Mutex<HashMap<B256, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let rejected = Arc::new(Mutex::new((0usize, None::<String>)));
    let batch_times: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let start_block = Rpc::new(&urls[0])?.block_number()?;
    let started = Instant::now();
    let threads = threads.max(1);
    let mut handles = Vec::new();
    for t in 0..threads {
        let url = urls[t % urls.len()].clone();
        let lists: Vec<Vec<Queued>> = (t..work.txs.len())
            .step_by(threads)
            .map(|s| {
                let pf = work.private_for.get(s).cloned().flatten();
                work.txs[s].iter().map(|(h, raw)| (*h, raw.clone(), pf.clone())).collect()
            })
            .collect();
        let submitted_at = submitted_at.clone();
        let rejected = rejected.clone();
        let batch_times = batch_times.clone();
        handles.push(std::thread::spawn(move || -> eyre::Result<()> {
            let rpc = Rpc::new(&url)?;
            // interleave senders so every block can hold many senders' next nonces
            let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
            let mut flat = Vec::new();
            for n in 0..longest {
                for l in &lists {
                    if let Some(tx) = l.get(n) {
                        flat.push(tx.clone());
                    }
                }
            }
            let per_thread_tps = target_tps.map(|t| t / threads as f64);
            let mut sent = 0usize;
            for chunk in flat.chunks(batch.max(1)) {
                if let Some(rate) = per_thread_tps {
                    let due = started + Duration::from_secs_f64(sent as f64 / rate.max(1.0));
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                sent += chunk.len();
                let body: Vec<Value> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, (_, raw, private_for))| match private_for {
                        Some(pf) => json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawPrivateTransaction", "params": [raw, {"privateFor": pf}]}),
                        None => json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}),
                    })
                    .collect();
                let now = Instant::now();
                {
                    let mut m = submitted_at.lock().map_err(|_| eyre!("poisoned"))?;
                    for (h, _, _) in chunk {
                        m.insert(*h, now);
                    }
                }
                let answer = rpc.post_raw(Value::Array(body).to_string()).map_err(|e| eyre!("{e:?}"))?;
                batch_times.lock().map_err(|_| eyre!("poisoned"))?.push(now.elapsed());
                for item in answer.as_array().into_iter().flatten() {
                    if let Some(err) = item.get("error") {
                        let mut r = rejected.lock().map_err(|_| eyre!("poisoned"))?;
                        r.0 += 1;
                        if r.1.is_none() {
                            r.1 = Some(err.to_string());
                        }
                    }
                }
            }
            Ok(())
        }));
    }
    // follow blocks on the first node and time each transaction's inclusion
    let follower = Rpc::new(&urls[0])?;
    let total = work.len();
    let mut included_at: HashMap<B256, Instant> = HashMap::with_capacity(total);
    let mut next = start_block + 1;
    let mut last_submit = started;
    let mut submitters_done = false;
    while included_at.len() < total && started.elapsed() < deadline {
        if !submitters_done && handles.iter().all(|h| h.is_finished()) {
            submitters_done = true;
            last_submit = Instant::now();
        }
        let head = follower.block_number()?;
        if head < next {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        while next <= head {
            let block = follower.block(next, false)?;
            let now = Instant::now();
            for h in block["transactions"].as_array().into_iter().flatten() {
                if let Ok(hash) = serde_json::from_value::<B256>(h.clone()) {
                    included_at.insert(hash, now);
                }
            }
            next += 1;
        }
        let (rej, _) = *rejected.lock().map_err(|_| eyre!("poisoned"))?;
        if submitters_done && included_at.len() + rej >= total {
            break;
        }
    }
    for h in handles {
        h.join().map_err(|_| eyre!("submitter panicked"))??;
    }
    if !submitters_done {
        last_submit = Instant::now();
    }
    let submitted = submitted_at.lock().map_err(|_| eyre!("poisoned"))?;
    let mut latencies: Vec<Duration> = included_at
        .iter()
        .filter_map(|(h, at)| submitted.get(h).map(|s| at.saturating_duration_since(*s)))
        .collect();
    latencies.sort();
    let pct = |p: f64| percentile(&latencies, p);
    let mut batch_times = batch_times.lock().map_err(|_| eyre!("poisoned"))?.clone();
    batch_times.sort();
    let last_inclusion = included_at.values().max().copied().unwrap_or(started);
    let (rej, first_error) = rejected.lock().map_err(|_| eyre!("poisoned"))?.clone();
    let secs = |d: Duration| d.as_secs_f64().max(1e-9);
    Ok(LoadReport {
        submitted: submitted.len(),
        included: latencies.len(),
        offered_tps: submitted.len() as f64 / secs(last_submit - started),
        achieved_tps: latencies.len() as f64 / secs(last_inclusion - started),
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        rejected: rej,
        first_error,
        batch_rpc: (percentile(&batch_times, 0.5), percentile(&batch_times, 0.99)),
    })
}

/// The `p` quantile of `sorted` (zero when empty).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
