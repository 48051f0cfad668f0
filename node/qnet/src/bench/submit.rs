//! The submitters: one thread per lane posting JSON-RPC batches at the offered rate, or as
//! fast as the network takes them (at most a window of transactions not yet in a block).

use std::{
    sync::Arc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use alloy_primitives::B256;

use super::{rpc::Rpc, state::RunState, workload::Lane};

/// Largest batch.
pub const MAX_BATCH: usize = 100;
/// Without a target rate: at most this many transactions in flight (sent, not yet in a block)
/// over all lanes. Every node's pool holds every in-flight transaction (they gossip), so this
/// stays under the pool's 4096 executable slots.
pub const WINDOW: usize = 3000;

/// How one lane submits.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Transactions per second for this lane (`None`: as fast as accepted).
    pub rate: Option<f64>,
    /// Transactions per batch.
    pub batch: usize,
    /// Nothing is sent after this much time since the start.
    pub deadline: Duration,
    /// In-flight limit over all lanes when there is no rate ([`WINDOW`]).
    pub window: usize,
}

impl Pace {
    /// The pace of each of `lanes` lanes for an offered rate of `tps` in total (batches of about
    /// a tenth of a second's worth).
    pub fn new(tps: Option<u64>, lanes: usize, deadline: Duration) -> Self {
        let lanes = lanes.max(1);
        let rate = tps.map(|t| t as f64 / lanes as f64);
        let batch = rate.map_or(MAX_BATCH, |r| ((r / 10.0).ceil() as usize).clamp(1, MAX_BATCH));
        Self { rate, batch, deadline, window: WINDOW }
    }
}

/// Starts a submitter per lane.
pub fn start(
    lanes: Vec<Lane>,
    pace: Pace,
    rpc: &Rpc,
    state: &Arc<RunState>,
) -> Vec<JoinHandle<()>> {
    lanes
        .into_iter()
        .map(|lane| {
            let (rpc, state) = (rpc.clone(), state.clone());
            std::thread::spawn(move || submit_lane(&lane, pace, &rpc, &state))
        })
        .collect()
}

fn submit_lane(lane: &Lane, pace: Pace, rpc: &Rpc, state: &RunState) {
    let started = state.started;
    let mut sent = 0usize;
    for chunk in lane.txs.chunks(pace.batch.max(1)) {
        if let Some(rate) = pace.rate {
            let due = started + Duration::from_secs_f64(sent as f64 / rate.max(1e-3));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        } else {
            while state.in_flight() >= pace.window && !state.stopping() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if state.stopping() || started.elapsed() >= pace.deadline {
            break;
        }
        let requests: Vec<String> = chunk.iter().enumerate().map(|(i, p)| p.with_id(i)).collect();
        let at = Instant::now();
        state.sent(chunk.len(), at);
        sent += chunk.len();
        match rpc.batch(&lane.url, &requests) {
            Ok(answers) => {
                for (p, answer) in chunk.iter().zip(answers) {
                    let hash = answer.and_then(|v| match p.hash {
                        Some(h) => Ok(h),
                        None => serde_json::from_value::<B256>(v.clone())
                            .map_err(|e| format!("not a transaction hash: {v} ({e})")),
                    });
                    match hash {
                        Ok(h) => state.accepted(h, at),
                        Err(e) => state.rejected(1, &format!("{}: {e}", lane.node)),
                    }
                }
            }
            Err(e) => state.rejected(chunk.len(), &format!("{}: {e}", lane.node)),
        }
    }
    tracing::debug!(target: "qnet::bench", lane = %lane.node, sent, "submitter done");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{MAX_BATCH, Pace, WINDOW};

    #[test]
    fn pace_splits_the_rate_and_sizes_batches() {
        let p = Pace::new(Some(200), 4, Duration::from_secs(5));
        assert_eq!((p.rate, p.batch), (Some(50.0), 5));
        let slow = Pace::new(Some(3), 4, Duration::from_secs(5));
        assert_eq!(slow.batch, 1);
        let fast = Pace::new(None, 2, Duration::from_secs(5));
        assert_eq!((fast.rate, fast.batch, fast.window), (None, MAX_BATCH, WINDOW));
    }
}
