//! The metric types. Each records with relaxed atomics only: no lock, no allocation.

use std::{
    sync::atomic::{AtomicI64, AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// A monotonically increasing count (geth's Counter and Meter: both are exported as the total).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Sets the value from an unsigned number (saturating at `i64::MAX`).
    pub fn set_u64(&self, v: u64) {
        self.set(i64::try_from(v).unwrap_or(i64::MAX));
    }

    /// Adds `d` (may be negative).
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How many of the latest durations a [`Timer`] keeps for its quantiles (geth's reservoir size).
pub const TIMER_WINDOW: usize = 1028;

/// Durations (nanoseconds, as geth's timers): a total count and sum, and the latest
/// [`TIMER_WINDOW`] samples in a ring for quantiles. Recording is two `fetch_add`s and a store.
#[derive(Debug)]
pub struct Timer {
    count: AtomicU64,
    sum_ns: AtomicU64,
    ring: Box<[AtomicU64]>,
}

impl Default for Timer {
    fn default() -> Self {
        Self {
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            ring: (0..TIMER_WINDOW).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Timer {
    /// Records one duration.
    pub fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = self.count.fetch_add(1, Ordering::Relaxed);
        // the modulo is below TIMER_WINDOW, so the cast back is lossless
        let slot = (i % TIMER_WINDOW as u64) as usize;
        if let Some(s) = self.ring.get(slot) {
            s.store(ns, Ordering::Relaxed);
        }
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Records the time since `start`.
    pub fn record_since(&self, start: Instant) {
        self.record(start.elapsed());
    }

    /// Runs `f` and records how long it took.
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.record_since(start);
        out
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// A consistent-enough copy for rendering (samples being written meanwhile may be missed).
    pub fn snapshot(&self) -> TimerSnapshot {
        let count = self.count();
        let n = usize::try_from(count).unwrap_or(usize::MAX).min(TIMER_WINDOW);
        let mut samples: Vec<u64> =
            self.ring.iter().take(n).map(|s| s.load(Ordering::Relaxed)).collect();
        samples.sort_unstable();
        TimerSnapshot { count, sum_ns: self.sum_ns.load(Ordering::Relaxed), samples }
    }
}

/// A [`Timer`]'s state at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerSnapshot {
    /// Durations recorded since start.
    pub count: u64,
    /// Their sum in nanoseconds.
    pub sum_ns: u64,
    /// The latest samples (nanoseconds), sorted.
    pub samples: Vec<u64>,
}

impl TimerSnapshot {
    /// The `p` quantile (0..=1) of the samples, interpolated as geth's `SamplePercentiles`
    /// does; 0 without samples.
    pub fn quantile(&self, p: f64) -> f64 {
        let v = &self.samples;
        let Some(last) = v.last() else { return 0.0 };
        let n = v.len() as f64;
        let pos = p * (n + 1.0);
        if pos < 1.0 {
            return v[0] as f64;
        }
        if pos >= n {
            return *last as f64;
        }
        let lower_i = pos.floor() as usize - 1;
        let lower = v[lower_i] as f64;
        let upper = v[lower_i + 1] as f64;
        lower + (pos - pos.floor()) * (upper - lower)
    }

    /// Mean of the samples in nanoseconds (0 without samples).
    pub fn mean(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        self.samples.iter().map(|&s| s as f64).sum::<f64>() / self.samples.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_quantiles_follow_geth_interpolation() {
        let t = Timer::default();
        for ms in 1..=100u64 {
            t.record(Duration::from_millis(ms));
        }
        let s = t.snapshot();
        assert_eq!(s.count, 100);
        assert_eq!(s.sum_ns, 5050 * 1_000_000);
        // geth: pos = 0.5 * 101 = 50.5 → v[49] + 0.5 * (v[50] - v[49]) = 50.5 ms
        assert_eq!(s.quantile(0.5), 50_500_000.0);
        assert_eq!(s.quantile(0.9999), 100_000_000.0);
        assert_eq!(s.quantile(0.001), 1_000_000.0);
    }

    #[test]
    fn timer_keeps_the_latest_window() {
        let t = Timer::default();
        for _ in 0..TIMER_WINDOW {
            t.record(Duration::from_nanos(1));
        }
        for _ in 0..TIMER_WINDOW {
            t.record(Duration::from_nanos(7));
        }
        let s = t.snapshot();
        assert_eq!(s.count, 2 * TIMER_WINDOW as u64);
        assert_eq!(s.samples.len(), TIMER_WINDOW);
        assert!(s.samples.iter().all(|&v| v == 7));
    }
}
