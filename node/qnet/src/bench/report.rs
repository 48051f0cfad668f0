//! `D/bench/<timestamp>.json` and `.svg`: what was offered, what was achieved, latency,
//! per-second series, per-process CPU and memory, and the configuration.

use std::{
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

use super::{
    chart,
    error::BenchError,
    procstat::Usage,
    stats::{Latency, Second},
};

/// The directory inside the network directory.
pub const BENCH_DIR: &str = "bench";

/// The configuration of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// `erc20`, `storage` or `private-storage`.
    pub workload: String,
    /// Private transactions.
    pub private: bool,
    /// Private: recipients per transaction.
    pub parties: Option<usize>,
    /// Offered rate (`null`: as fast as accepted).
    pub target_tps: Option<u64>,
    /// Seconds of submission.
    pub duration_secs: u64,
    /// Transactions prepared.
    pub transactions: usize,
    /// Sending accounts.
    pub senders: usize,
    /// Gas limit per transaction.
    pub gas_per_tx: u64,
    /// Transactions per JSON-RPC batch.
    pub batch: usize,
    /// The nodes submitted to.
    pub submit_to: Vec<String>,
    /// The WebSocket the blocks were followed on.
    pub tracked_via: String,
    /// The contracts called.
    pub contracts: Vec<String>,
    /// Consensus and chain id.
    pub consensus: String,
    /// Chain id.
    pub chain_id: u64,
}

/// Blocks seen during the run.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocks {
    /// First block after the start.
    pub first: Option<u64>,
    /// Last block seen.
    pub last: Option<u64>,
    /// How many.
    pub count: usize,
    /// Most transactions in one block.
    pub max_txs: usize,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Start time, UTC (`2026-11-21T13:50:00Z`).
    pub started_at: String,
    /// Transactions sent per second (first to last submission).
    pub offered_tps: f64,
    /// Transactions included per second (start to last inclusion).
    pub achieved_tps: f64,
    /// Sent.
    pub submitted: usize,
    /// Sent and seen in a block.
    pub included: usize,
    /// Refused by the node (JSON-RPC error or failed batch).
    pub rejected: usize,
    /// Accepted but not in a block before the wait ended.
    pub pending: usize,
    /// Prepared but never sent (the duration ran out first).
    pub unsent: usize,
    /// The first rejection.
    pub first_error: Option<String>,
    /// Submission-to-inclusion latency of the included transactions, ms.
    pub latency_ms: Latency,
    /// Per second of the run.
    pub series: Vec<Second>,
    /// Blocks seen.
    pub blocks: Blocks,
    /// Every qnode and qtm.
    pub nodes: Vec<Usage>,
    /// How it ran.
    pub config: Config,
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil from days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// Now, as [`utc`].
pub fn now_utc() -> String {
    utc(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// Writes `D/bench/<stamp>.json` and `.svg` (`stamp` from `started_at` without separators;
/// a suffix keeps two runs in the same second apart); returns both paths.
pub fn write(dir: &Path, report: &Report) -> Result<(PathBuf, PathBuf), BenchError> {
    let out = dir.join(BENCH_DIR);
    std::fs::create_dir_all(&out).map_err(|source| BenchError::Io { path: out.clone(), source })?;
    let stamp: String = report.started_at.chars().filter(|c| *c != '-' && *c != ':').collect();
    let mut n = 0;
    let (json_path, svg_path) = loop {
        let name = if n == 0 { stamp.clone() } else { format!("{stamp}-{n}") };
        let j = out.join(format!("{name}.json"));
        if !j.exists() {
            break (j, out.join(format!("{name}.svg")));
        }
        n += 1;
    };
    let mut text = serde_json::to_string_pretty(report)
        .map_err(|e| BenchError::Setup(format!("serialising the report: {e}")))?;
    text.push('\n');
    std::fs::write(&json_path, text)
        .map_err(|source| BenchError::Io { path: json_path.clone(), source })?;
    let c = &report.config;
    let title = format!(
        "qnet bench: {} on {} (chain {}), {}\noffered {:.0} tx/s{}, achieved {:.0} tx/s; {} of {} \
         included, {} rejected; latency p50 {:.2} s, p90 {:.2} s, p99 {:.2} s",
        c.workload,
        c.consensus,
        c.chain_id,
        report.started_at,
        report.offered_tps,
        c.target_tps.map(|t| format!(" (target {t})")).unwrap_or_default(),
        report.achieved_tps,
        report.included,
        report.submitted,
        report.rejected,
        report.latency_ms.p50 / 1000.0,
        report.latency_ms.p90 / 1000.0,
        report.latency_ms.p99 / 1000.0
    );
    std::fs::write(&svg_path, chart::svg(&title, &report.series))
        .map_err(|source| BenchError::Io { path: svg_path.clone(), source })?;
    Ok((json_path, svg_path))
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_timestamps() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_795_219_200 + 13 * 3600 + 50 * 60 + 7), "2026-11-21T13:50:07Z");
    }
}
