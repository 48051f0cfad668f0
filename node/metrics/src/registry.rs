//! The registry: metrics by name (and optional labels), created on first use.

use std::{collections::BTreeMap, sync::Arc};

use parking_lot::RwLock;

use crate::{Counter, Gauge, Timer};

/// One registered metric.
#[derive(Debug, Clone)]
pub enum Metric {
    /// A counter (or geth meter).
    Counter(Arc<Counter>),
    /// A gauge.
    Gauge(Arc<Gauge>),
    /// A timer (exported as a summary).
    Timer(Arc<Timer>),
}

/// `(name, rendered labels)`: labels are `k="v"` pairs sorted by key, joined with `,`.
pub(crate) type Key = (String, String);

/// A set of named metrics. Lookups take a read lock: callers on hot paths keep the returned
/// handle instead of looking it up per event.
#[derive(Debug, Default)]
pub struct Registry {
    metrics: RwLock<BTreeMap<Key, Metric>>,
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn label_key(labels: &[(&str, &str)]) -> String {
    let mut pairs: Vec<_> = labels.to_vec();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect::<Vec<_>>().join(",")
}

macro_rules! getter {
    ($name:ident, $with:ident, $variant:ident, $ty:ty) => {
        #[doc = concat!("The ", stringify!($variant), " `name`, created on first use.")]
        pub fn $name(&self, name: &str) -> Arc<$ty> {
            self.$with(name, &[])
        }

        #[doc = concat!("The ", stringify!($variant), " `name` with these labels, created on first use.")]
        pub fn $with(&self, name: &str, labels: &[(&str, &str)]) -> Arc<$ty> {
            let key = (name.to_owned(), label_key(labels));
            if let Some(Metric::$variant(m)) = self.metrics.read().get(&key) {
                return m.clone();
            }
            let mut map = self.metrics.write();
            let entry =
                map.entry(key).or_insert_with(|| Metric::$variant(Arc::new(<$ty>::default())));
            match entry {
                Metric::$variant(m) => m.clone(),
                _ => {
                    tracing::warn!(target: "metrics", name, "metric registered with another type");
                    Arc::new(<$ty>::default())
                }
            }
        }
    };
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    getter!(counter, counter_with, Counter, Counter);
    getter!(gauge, gauge_with, Gauge, Gauge);
    getter!(timer, timer_with, Timer, Timer);

    /// Every metric, sorted by name then labels.
    pub fn entries(&self) -> Vec<(String, String, Metric)> {
        self.metrics.read().iter().map(|((n, l), m)| (n.clone(), l.clone(), m.clone())).collect()
    }
}
