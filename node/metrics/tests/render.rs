//! The exposition round-trips through the text-format parser, in geth's shape.

use std::time::Duration;

use qrs_metrics::{Registry, text};

#[test]
fn prometheus_output_has_geths_shape_and_parses() {
    let r = Registry::new();
    r.gauge("chain/head/block").set(42);
    r.counter("txpool/valid").add(3);
    let t = r.timer("chain/execution");
    for ms in [1u64, 2, 3] {
        t.record(Duration::from_millis(ms));
    }
    r.counter_with("ptm/requests", &[("endpoint", "send")]).inc();
    r.counter_with("ptm/requests", &[("endpoint", "receive")]).add(2);
    let out = r.render_prometheus();
    assert!(out.contains("# TYPE chain_head_block gauge\nchain_head_block 42\n"), "{out}");
    assert!(
        out.contains("# TYPE chain_execution_count counter\nchain_execution_count 3\n"),
        "{out}"
    );
    assert!(out.contains("# TYPE chain_execution summary\n"), "{out}");
    assert_eq!(out.matches("# TYPE ptm_requests gauge").count(), 1, "{out}");
    let samples = text::parse(&out).expect("valid text format");
    assert_eq!(text::value(&samples, "txpool_valid", &[]), Some(3.0));
    assert_eq!(text::value(&samples, "chain_execution", &[("quantile", "0.5")]), Some(2e6));
    assert_eq!(text::value(&samples, "chain_execution_sum", &[]), Some(6e6));
    assert_eq!(text::value(&samples, "ptm_requests", &[("endpoint", "receive")]), Some(2.0));
    let json = r.render_json();
    assert_eq!(json["chain/head/block"], 42);
    assert_eq!(json["chain/execution.count"], 3);
    assert_eq!(json["ptm/requests{endpoint=\"send\"}"], 1);
}
