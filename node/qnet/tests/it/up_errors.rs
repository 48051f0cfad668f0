//! `qnet up` on bad input fails with a clear message and leaves nothing running: a non-empty
//! directory that is no network, a corrupt network.json, a port in use, a missing binary, a
//! node that exits at start, a network that is not healthy in time.

use std::net::TcpListener;

use qrs_qnet::{
    NetworkJson,
    run::procs::{Service, ServiceKind},
};

use crate::run_common::{NetDir, bin_dir, qnet_run};

/// `qnet init` into the test dir (the network `up` will then find).
fn init(net: &NetDir, extra: &[&str]) {
    let base = net.base.to_string();
    let mut args = vec!["init", "--dir", net.path(), "--base-port", &base, "--lightkdf"];
    args.extend(extra);
    let out = qnet_run(&args);
    assert!(out.ok, "{out}");
}

/// Nothing of the network runs: no pid files and every port free again.
fn nothing_running(net: &NetDir) {
    let run = net.dir.join("run");
    let pid_files = std::fs::read_dir(&run).map(|d| d.count()).unwrap_or(0);
    assert_eq!(pid_files, 0, "pid files left in {}", run.display());
    let json = NetworkJson::load(&net.dir).unwrap();
    let tms = json.nodes.iter().map(|node| Service { node, kind: ServiceKind::Qtm });
    let nodes = json.nodes.iter().map(|node| Service { node, kind: ServiceKind::Qnode });
    for s in tms.chain(nodes) {
        for (port, what) in qrs_qnet::run::ports::service_ports(&s) {
            assert!(
                TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "{what} (port {port}) still taken"
            );
        }
    }
}

#[test]
fn a_non_empty_directory_without_network_json_is_refused() {
    let net = NetDir::new();
    std::fs::create_dir_all(&net.dir).unwrap();
    std::fs::write(net.dir.join("notes.txt"), "mine").unwrap();
    let out = net.up(&[]);
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("is not a qnet network"), "{out}");
    let entries: Vec<_> =
        std::fs::read_dir(&net.dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, ["notes.txt"], "the directory was changed");
}

#[test]
fn a_corrupt_network_json_is_named() {
    let net = NetDir::new();
    init(&net, &["--validators", "1", "--members", "0"]);
    std::fs::write(net.dir.join("network.json"), "{\"chainId\": 1337, \"nodes\": [").unwrap();
    for out in [
        net.up(&[]),
        qnet_run(&["status", "--dir", net.path()]),
        qnet_run(&["down", "--dir", net.path()]),
    ] {
        assert!(!out.ok, "{out}");
        assert!(out.stderr.contains("network.json is not a valid qnet network.json"), "{out}");
    }
    assert!(!net.dir.join("run").exists() && !net.dir.join("logs").exists(), "something started");
}

#[test]
fn a_port_in_use_is_named_and_nothing_starts() {
    let net = NetDir::new();
    init(&net, &["--validators", "2", "--members", "1"]);
    let json = net.json();
    // a port late in the list: validator2's p2p port
    let port = json.node("validator2").unwrap().p2p_port;
    let _holder = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let out = net.up(&[]);
    assert!(!out.ok, "{out}");
    assert!(
        out.stderr.contains(&format!("port {port} (validator2 p2p) is already in use")),
        "{out}"
    );
    assert!(!out.stderr.contains("started "), "{out}");
    assert!(!net.dir.join("run").exists(), "something started");
}

#[test]
fn a_port_in_use_refuses_a_new_network_before_generating_it() {
    let net = NetDir::new();
    // rpcnode's WS port in the compact layout of 1 validator + 1 member: base + 3
    let port = net.base + 3;
    let _holder = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let out = net.up(&["--validators", "1", "--members", "1"]);
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains(&format!("port {port} (rpcnode ws) is already in use")), "{out}");
    assert!(!net.dir.exists(), "the network was generated anyway");
}

#[test]
fn a_missing_binary_is_named_and_nothing_starts() {
    let net = NetDir::new();
    let empty = tempfile::tempdir().unwrap();
    let base = net.base.to_string();
    let args = [
        "up",
        "--dir",
        net.path(),
        "--detach",
        "--base-port",
        &base,
        "--lightkdf",
        "--validators",
        "1",
        "--members",
        "1",
    ];
    let out = qnet_run(&[&args[..], &["--bin-dir", empty.path().to_str().unwrap()]].concat());
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("the qnode binary was not found"), "{out}");
    assert!(out.stderr.contains(&format!("--bin-dir {}", empty.path().display())), "{out}");
    // qnode there, qtm not: qtm is named
    std::os::unix::fs::symlink(bin_dir().join("qnode"), empty.path().join("qnode")).unwrap();
    let out = qnet_run(&[&args[..], &["--bin-dir", empty.path().to_str().unwrap()]].concat());
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("the qtm binary was not found"), "{out}");
    assert!(!net.dir.join("run").exists(), "something started");
}

#[test]
fn a_node_that_exits_at_start_is_named_and_everything_is_stopped() {
    let net = NetDir::new();
    init(&net, &["--validators", "2", "--members", "1", "--block-period", "1"]);
    // validator2's qnode refuses its command line
    let flags = net.dir.join("validator2").join("qnode.flags");
    let mut text = std::fs::read_to_string(&flags).unwrap();
    text.push_str("--no-such-flag\n");
    std::fs::write(&flags, text).unwrap();
    let out = net.up(&[]);
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("validator2: exited"), "{out}");
    assert!(out.stderr.contains("no-such-flag"), "the log tail shows why: {out}");
    assert!(out.stderr.contains("stopping the"), "{out}");
    nothing_running(&net);
}

#[test]
fn a_network_not_healthy_in_time_is_reported_and_stopped() {
    let net = NetDir::new();
    init(&net, &["--validators", "2", "--members", "1", "--block-period", "1"]);
    // member1 admits nobody (its permissioned nodes list is empty): it starts and answers, but
    // never gets a peer, so the network cannot become healthy however fast the machine is
    std::fs::write(net.dir.join("member1").join("permissioned-nodes.json"), "[]").unwrap();
    let bins = bin_dir();
    let out = qnet_run(&[
        "up",
        "--dir",
        net.path(),
        "--detach",
        "--bin-dir",
        bins.to_str().unwrap(),
        "--timeout",
        "5",
    ]);
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("not healthy before the timeout"), "{out}");
    assert!(out.stderr.contains("member1"), "the unhealthy node is named: {out}");
    nothing_running(&net);
}
