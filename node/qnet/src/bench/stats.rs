//! Turning the run's timestamps into rates, percentiles and a per-second series.

use std::time::{Duration, Instant};

use serde::Serialize;

/// The `p`-quantile (0..=1, nearest rank) of sorted values; 0 for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Latency summary, milliseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    /// From latencies in milliseconds (any order).
    pub fn of(mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        let mean = if ms.is_empty() { 0.0 } else { ms.iter().sum::<f64>() / ms.len() as f64 };
        Self {
            p50: round(percentile(&ms, 0.50)),
            p90: round(percentile(&ms, 0.90)),
            p99: round(percentile(&ms, 0.99)),
            min: round(ms.first().copied().unwrap_or(0.0)),
            max: round(ms.last().copied().unwrap_or(0.0)),
            mean: round(mean),
        }
    }
}

/// One decimal.
pub fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One second of the run.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Second {
    /// Seconds since the start (this bucket is `[second, second + 1)`).
    pub second: u64,
    /// Transactions sent in it.
    pub submitted: usize,
    /// Transactions (of this run) included in it: the achieved TPS of that second.
    pub tps: usize,
    /// Median latency of those, ms (`null` when none).
    pub latency_p50_ms: Option<f64>,
}

/// Buckets sends and inclusions (`(inclusion time, latency)`) by second since `start`.
pub fn series(start: Instant, sent: &[Instant], included: &[(Instant, Duration)]) -> Vec<Second> {
    let sec = |t: &Instant| t.saturating_duration_since(start).as_secs() as usize;
    let last = sent.iter().chain(included.iter().map(|(t, _)| t)).map(sec).max();
    let Some(last) = last else { return Vec::new() };
    let mut submitted = vec![0usize; last + 1];
    let mut lat: Vec<Vec<f64>> = vec![Vec::new(); last + 1];
    for t in sent {
        submitted[sec(t)] += 1;
    }
    for (t, d) in included {
        lat[sec(t)].push(d.as_secs_f64() * 1e3);
    }
    submitted
        .into_iter()
        .zip(lat)
        .enumerate()
        .map(|(s, (submitted, mut l))| {
            l.sort_by(f64::total_cmp);
            Second {
                second: s as u64,
                submitted,
                tps: l.len(),
                latency_p50_ms: (!l.is_empty()).then(|| round(percentile(&l, 0.5))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{Latency, percentile, series};

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(
            (percentile(&v, 0.5), percentile(&v, 0.9), percentile(&v, 0.99)),
            (50.0, 90.0, 99.0)
        );
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        let l = Latency::of(vec![300.0, 100.0, 200.0]);
        assert_eq!((l.p50, l.p90, l.min, l.max, l.mean), (200.0, 300.0, 100.0, 300.0, 200.0));
    }

    #[test]
    fn series_buckets_by_second() {
        let t0 = Instant::now();
        let s = |ms: u64| t0 + Duration::from_millis(ms);
        let sent = [s(0), s(100), s(1500)];
        let inc = [(s(1100), Duration::from_millis(1000)), (s(2900), Duration::from_millis(1400))];
        let out = series(t0, &sent, &inc);
        assert_eq!(out.len(), 3);
        assert_eq!((out[0].submitted, out[0].tps, out[0].latency_p50_ms), (2, 0, None));
        assert_eq!((out[1].submitted, out[1].tps, out[1].latency_p50_ms), (1, 1, Some(1000.0)));
        assert_eq!((out[2].submitted, out[2].tps, out[2].latency_p50_ms), (0, 1, Some(1400.0)));
    }
}
