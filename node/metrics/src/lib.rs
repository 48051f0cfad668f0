//! qrs-metrics: the node's and the TM's metrics.
//!
//! A [`Registry`] holds named [`Counter`]s, [`Gauge`]s and [`Timer`]s (atomics only: recording
//! never takes a lock) and renders them as geth's exporter does: Prometheus text
//! ([`Registry::render_prometheus`], the shape of go-ethereum `metrics/prometheus/collector.go`)
//! and a JSON map ([`Registry::render_json`]). Names use geth's `a/b/c` form and are exported
//! with `/` turned into `_` (`chain/head/block` → `chain_head_block`).
//!
//! Code on hot paths keeps a handle in a `static` (`LazyLock`) from the process-wide
//! [`global`] registry; values that are cheaper to read at scrape time (pool sizes, peers,
//! head) are set by the exporter just before it renders. [`system`] reads process CPU, memory
//! and disk counters from `/proc`; [`checkpoint`] prints GoQuorum's `QUORUM-CHECKPOINT` lines
//! (`--emitcheckpoints`); [`text`] parses the Prometheus text format (for tests and tools).

pub mod checkpoint;
mod metric;
mod registry;
pub mod render;
pub mod system;
pub mod text;

use std::sync::{Arc, LazyLock};

pub use metric::{Counter, Gauge, TIMER_WINDOW, Timer, TimerSnapshot};
pub use registry::{Metric, Registry};

static GLOBAL: LazyLock<Registry> = LazyLock::new(Registry::new);

/// The process-wide registry (geth's `metrics.DefaultRegistry`).
pub fn global() -> &'static Registry {
    &GLOBAL
}

/// A counter in the [`global`] registry.
pub fn counter(name: &str) -> Arc<Counter> {
    GLOBAL.counter(name)
}

/// A gauge in the [`global`] registry.
pub fn gauge(name: &str) -> Arc<Gauge> {
    GLOBAL.gauge(name)
}

/// A timer in the [`global`] registry.
pub fn timer(name: &str) -> Arc<Timer> {
    GLOBAL.timer(name)
}
