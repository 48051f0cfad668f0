//! Exposition: geth's Prometheus text shape and its expvar-style JSON map.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::{Metric, Registry, TimerSnapshot};

/// The quantiles geth exports for every timer.
pub const QUANTILES: [f64; 6] = [0.5, 0.75, 0.95, 0.99, 0.999, 0.9999];

/// A geth metric name as a Prometheus name: `/` (and anything else Prometheus does not allow)
/// becomes `_`.
pub fn prometheus_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn with_labels(name: &str, labels: &str, extra: Option<String>) -> String {
    let all: Vec<&str> =
        [labels, extra.as_deref().unwrap_or("")].into_iter().filter(|s| !s.is_empty()).collect();
    if all.is_empty() { name.to_owned() } else { format!("{name}{{{}}}", all.join(",")) }
}

fn float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl Registry {
    /// Prometheus text format, as go-ethereum's exporter writes it: counters and gauges as
    /// `gauge`s, each timer as a `<name>_count` counter followed by a `summary` with geth's
    /// quantiles (nanoseconds) and a `<name>_sum`.
    pub fn render_prometheus(&self) -> String {
        render_prometheus(&[self])
    }

    /// The expvar-style JSON object geth serves at `/debug/metrics`: `name` → value, and for
    /// timers `name.count`, `name.mean`, `name.50-percentile`, ...
    pub fn render_json(&self) -> Value {
        render_json(&[self])
    }
}

/// [`Registry::render_prometheus`] over several registries (the process-wide one and a
/// node's own), one family after the other in name order.
pub fn render_prometheus(registries: &[&Registry]) -> String {
    let mut entries: Vec<_> = registries.iter().flat_map(|r| r.entries()).collect();
    entries.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut out = String::new();
    let mut i = 0;
    while i < entries.len() {
        let family = entries[i].0.clone();
        let end = entries[i..].iter().position(|e| e.0 != family).map_or(entries.len(), |p| i + p);
        let group = &entries[i..end];
        let name = prometheus_name(&family);
        match &group[0].2 {
            Metric::Counter(_) | Metric::Gauge(_) => {
                let _ = writeln!(out, "# TYPE {name} gauge");
                for (_, labels, m) in group {
                    let v = match m {
                        Metric::Counter(c) => c.get().to_string(),
                        Metric::Gauge(g) => g.get().to_string(),
                        Metric::Timer(t) => t.count().to_string(),
                    };
                    let _ = writeln!(out, "{} {v}", with_labels(&name, labels, None));
                }
            }
            Metric::Timer(_) => {
                let snaps: Vec<(&String, TimerSnapshot)> = group
                    .iter()
                    .filter_map(|(_, l, m)| match m {
                        Metric::Timer(t) => Some((l, t.snapshot())),
                        _ => None,
                    })
                    .collect();
                let count = format!("{name}_count");
                let _ = writeln!(out, "# TYPE {count} counter");
                for (labels, s) in &snaps {
                    let _ = writeln!(out, "{} {}", with_labels(&count, labels, None), s.count);
                }
                out.push('\n');
                let _ = writeln!(out, "# TYPE {name} summary");
                for (labels, s) in &snaps {
                    for q in QUANTILES {
                        let tag = Some(format!("quantile=\"{q}\""));
                        let _ = writeln!(
                            out,
                            "{} {}",
                            with_labels(&name, labels, tag),
                            float(s.quantile(q))
                        );
                    }
                    let sum = format!("{name}_sum");
                    let _ = writeln!(out, "{} {}", with_labels(&sum, labels, None), s.sum_ns);
                }
            }
        }
        out.push('\n');
        i = end;
    }
    out
}

/// [`Registry::render_json`] over several registries.
pub fn render_json(registries: &[&Registry]) -> Value {
    let mut map = Map::new();
    for r in registries {
        for (name, labels, m) in r.entries() {
            let key = with_labels(&name, &labels, None);
            match m {
                Metric::Counter(c) => {
                    map.insert(key, c.get().into());
                }
                Metric::Gauge(g) => {
                    map.insert(key, g.get().into());
                }
                Metric::Timer(t) => {
                    let s = t.snapshot();
                    map.insert(format!("{key}.count"), s.count.into());
                    map.insert(format!("{key}.sum"), s.sum_ns.into());
                    map.insert(format!("{key}.mean"), s.mean().into());
                    map.insert(
                        format!("{key}.min"),
                        s.samples.first().copied().unwrap_or(0).into(),
                    );
                    map.insert(format!("{key}.max"), s.samples.last().copied().unwrap_or(0).into());
                    for (q, label) in
                        [(0.5, "50"), (0.75, "75"), (0.95, "95"), (0.99, "99"), (0.999, "999")]
                    {
                        map.insert(format!("{key}.{label}-percentile"), s.quantile(q).into());
                    }
                }
            }
        }
    }
    Value::Object(map)
}
