//! `qnet bench` against a network started with `qnet up --detach`: a paced public ERC-20 run
//! and a private run (node-signed, `privateFor` one other member) each write a JSON report
//! whose numbers add up and a chart that parses as SVG; bad input is refused with a clear
//! message and a non-zero exit.

use std::path::{Path, PathBuf};

use alloy_sol_types::SolCall as _;
use qrs_contracts::bindings::SimpleStorage;
use qrs_qnet::run::probe::Probe;
use serde_json::{Value, json};

use crate::run_common::{NetDir, Run, qnet_run};

/// The `report:` and `chart:` paths a successful run prints.
fn outputs(run: &Run) -> (PathBuf, PathBuf) {
    let path = |prefix: &str| {
        let line = run.stdout.lines().find_map(|l| l.strip_prefix(prefix));
        PathBuf::from(line.unwrap_or_else(|| panic!("no {prefix} line: {run}")).trim())
    };
    (path("report:"), path("chart:"))
}

/// Checks a report's arithmetic and returns it.
fn check_report(json: &Path, net: &NetDir, target_tps: u64, duration: u64) -> Value {
    assert!(json.starts_with(net.dir.join("bench")), "{}", json.display());
    let r: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let n = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("not a number: {v} in {r:#}"));
    let (submitted, included) = (n(&r["submitted"]), n(&r["included"]));
    assert_eq!(n(&r["config"]["targetTps"]), target_tps as f64);
    assert_eq!(n(&r["config"]["durationSecs"]), duration as f64);
    assert_eq!(
        submitted + n(&r["unsent"]),
        n(&r["config"]["transactions"]),
        "every prepared transaction is sent or counted unsent: {r:#}"
    );
    assert_eq!(submitted, (target_tps * duration) as f64, "{r:#}");
    assert_eq!(
        (n(&r["rejected"]), n(&r["pending"])),
        (0.0, 0.0),
        "nothing rejected or left out (first error: {})",
        r["firstError"]
    );
    assert_eq!(included, submitted, "{r:#}");
    assert!(n(&r["achievedTps"]) > 0.0, "{r:#}");
    let offered = n(&r["offeredTps"]);
    // paced: never much above the target; below it only when this (shared) machine lags
    assert!(
        offered > target_tps as f64 * 0.3 && offered < target_tps as f64 * 1.3,
        "offered {offered} tx/s for a target of {target_tps}: {r:#}"
    );
    let l = &r["latencyMs"];
    let (min, p50, p90, p99, max) =
        (n(&l["min"]), n(&l["p50"]), n(&l["p90"]), n(&l["p99"]), n(&l["max"]));
    assert!(0.0 < min && min <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max, "{l}");
    // the per-second series adds up to the totals
    let series = r["series"].as_array().unwrap();
    assert!(series.len() as u64 >= duration, "{r:#}");
    let sum = |k: &str| series.iter().map(|s| n(&s[k])).sum::<f64>();
    assert_eq!((sum("submitted"), sum("tps")), (submitted, included), "{r:#}");
    assert!(n(&r["blocks"]["count"]) >= 1.0 && n(&r["blocks"]["maxTxs"]) >= 1.0, "{r:#}");
    // every qnode and qtm of the network, with the pid `qnet up` recorded and its usage
    let nodes = r["nodes"].as_array().unwrap();
    let services = net.services();
    assert_eq!(nodes.len(), services.len(), "{r:#}");
    for (name, binary) in &services {
        let u =
            nodes.iter().find(|u| u["name"] == name.as_str()).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(u["process"], *binary);
        assert_eq!(u["pid"], net.pid(name), "{u}");
        assert!(n(&u["cpuPercent"]) >= 0.0 && n(&u["rssMib"]) > 0.0, "{u}");
        assert!(n(&u["peakRssMib"]) >= n(&u["rssMib"]), "{u}");
    }
    r
}

/// The chart is well-formed XML with an `<svg>` root and a bar per second.
fn check_chart(svg: &Path, report: &Value) {
    let text = std::fs::read_to_string(svg).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", svg.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    let bars = root.children().filter(|n| n.has_tag_name("rect")).count();
    assert_eq!(
        bars,
        1 + report["series"].as_array().unwrap().len(),
        "background + a bar per second"
    );
}

#[test]
fn bench_public_and_private_load_on_a_running_network() {
    let net = NetDir::new();
    let up = net.up(&["--validators", "1", "--members", "2", "--block-period", "1"]);
    assert!(up.ok, "qnet up failed: {up}");

    // public ERC-20 transfers at 200 tx/s for 5 s
    let run = qnet_run(&["bench", "--dir", net.path(), "--duration", "5", "--tps", "200"]);
    assert!(run.ok, "qnet bench failed: {run}");
    eprintln!("public run: {}", run.stdout.lines().next().unwrap_or_default());
    let (public_json, svg) = outputs(&run);
    let report = check_report(&public_json, &net, 200, 5);
    assert_eq!(report["config"]["workload"], "erc20");
    assert!(report["config"]["senders"].as_u64().unwrap() > 4, "{report:#}");
    check_chart(&svg, &report);
    // stderr is not a terminal: a progress line per second
    let progress = run.stderr.lines().filter(|l| l.starts_with("bench ")).count();
    assert!(progress >= 4, "progress lines: {run}");

    // private SimpleStorage sets, each member to one other member
    let run = qnet_run(&[
        "bench",
        "--dir",
        net.path(),
        "--private",
        "--parties",
        "1",
        "--duration",
        "5",
        "--tps",
        "20",
    ]);
    assert!(run.ok, "qnet bench --private failed: {run}");
    eprintln!("private run: {}", run.stdout.lines().next().unwrap_or_default());
    let (json, svg) = outputs(&run);
    assert_ne!(json, public_json, "each run writes its own report");
    let report = check_report(&json, &net, 20, 5);
    assert_eq!(report["config"]["workload"], "private-storage");
    check_chart(&svg, &report);
    // the sets ran privately: member1's contract holds its last value on member1 and on its
    // recipient member2 (50 sets of 2..=51), and is no contract at all on the rpc node
    let json_net = net.json();
    let contract = report["config"]["contracts"][0].as_str().unwrap().to_owned();
    let get = json!([{ "to": contract, "data": format!("0x{}", hex::encode(SimpleStorage::getCall {}.abi_encode())) }, "latest"]);
    let probe = Probe::new().unwrap();
    for member in ["member1", "member2"] {
        let value =
            probe.rpc(&json_net.node(member).unwrap().rpc, "eth_call", get.clone()).unwrap();
        assert_eq!(value, format!("0x{:064x}", 51), "{member}");
    }
    let rpcnode = &json_net.node("rpcnode").unwrap().rpc;
    assert_eq!(probe.rpc(rpcnode, "eth_getCode", json!([contract, "latest"])).unwrap(), "0x");

    // more recipients than other members
    let run =
        qnet_run(&["bench", "--dir", net.path(), "--private", "--parties", "2", "--duration", "1"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.contains("--parties 2: each member can send to 1..=1 other members"),
        "{run}"
    );

    let down = net.down();
    assert!(down.ok, "{down}");
    // a stopped network is refused, naming a node that does not answer
    let run = qnet_run(&["bench", "--dir", net.path(), "--duration", "1", "--tps", "10"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.contains("is not running") && run.stderr.contains("validator1 at http://"),
        "{run}"
    );
    assert!(run.stderr.contains("qnet up --dir"), "{run}");
}

#[test]
fn bench_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let refused = |args: &[&str], needle: &str| {
        let mut all = vec!["bench", "--dir", dir];
        all.extend(args);
        let run = qnet_run(&all);
        assert_eq!(run.code, Some(1), "{args:?}: {run}");
        assert!(run.stderr.contains(needle), "{args:?} should say {needle:?}: {run}");
        assert!(!tmp.path().join("bench").exists(), "{args:?} wrote results");
    };
    refused(&["--tps", "0"], "--tps 0: the offered rate must be at least 1");
    refused(&["--duration", "0"], "--duration 0: the run must last at least 1 second");
    refused(&["--private", "--parties", "0"], "--parties 0");
    refused(&["--tps", "10"], "has no network.json: create and start a network with `qnet up");
    std::fs::write(tmp.path().join("network.json"), "{").unwrap();
    refused(&["--tps", "10"], "is not a valid qnet network.json");
}
