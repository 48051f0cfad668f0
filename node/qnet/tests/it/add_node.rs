//! `qnet add-node` on networks that `qnet up --detach` runs: a member with its own TM joins a
//! QBFT network, syncs and receives a private transaction; a fifth validator is voted in and
//! blocks keep coming; a member joins a Raft cluster; bad input and a failed start leave the
//! network exactly as it was.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use qrs_qnet::{NetworkJson, NodeEntry, run::procs::pid_alive};
use serde_json::{Value, json};

use crate::{
    raft::{eventually, try_rpc},
    run_common::{NetDir, Run, bin_dir, qnet_run},
};

/// Init code: stores 42 in slot 0 and deploys a runtime that returns slot 0.
const CONTRACT: &str = "0x602a600055600b6011600039600b6000f360005460005260206000f3";

/// `qnet add-node --dir D <extra>` with the sibling binaries and cheap scrypt.
fn add_node(net: &NetDir, extra: &[&str]) -> Run {
    let bins = bin_dir();
    let mut args = vec!["add-node", "--dir", net.path(), "--lightkdf", "--timeout", "90"];
    args.extend(["--bin-dir", bins.to_str().unwrap()]);
    args.extend(extra);
    qnet_run(&args)
}

fn head(node: &NodeEntry) -> u64 {
    let v = try_rpc(&node.rpc, "eth_blockNumber", json!([])).unwrap_or(json!("0x0"));
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Every file in `rel` of the network dir and of each node dir lists `enode`.
fn listed_everywhere(dir: &Path, json: &NetworkJson, enode: &str) {
    for file in ["static-nodes.json", "permissioned-nodes.json"] {
        let dirs =
            std::iter::once(dir.to_owned()).chain(json.nodes.iter().map(|n| dir.join(&n.datadir)));
        for d in dirs {
            let list: Vec<String> =
                serde_json::from_str(&std::fs::read_to_string(d.join(file)).unwrap()).unwrap();
            assert!(list.iter().any(|e| e == enode), "{} lacks {enode}", d.join(file).display());
        }
    }
}

/// `docker compose config` (or Compose v1) on `file`: its normalised output, or `None` (said
/// loudly on stderr) where docker is not installed.
fn compose_config(file: &Path) -> Option<String> {
    use std::process::Command;
    let works = |cmd: &mut Command| cmd.output().is_ok_and(|o| o.status.success());
    let mut cmd = if works(Command::new("docker").args(["compose", "version"])) {
        let mut c = Command::new("docker");
        c.arg("compose");
        c
    } else if works(Command::new("docker-compose").arg("version")) {
        Command::new("docker-compose")
    } else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n!!!!! SKIPPED the docker-compose check of add-node: no docker compose !!!!!\n",
        );
        return None;
    };
    let out = cmd.arg("-f").arg(file).arg("config").output().unwrap();
    assert!(
        out.status.success(),
        "compose config rejected {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `qnet status` succeeds with every node of network.json `ok`.
fn status_all_ok(net: &NetDir) {
    let status = net.status();
    assert!(status.ok, "status: {status}");
    for n in &net.json().nodes {
        let line = status.stdout.lines().find(|l| l.starts_with(&format!("{} ", n.name)));
        let line = line.unwrap_or_else(|| panic!("{} not in the status: {status}", n.name));
        assert!(line.trim_end().ends_with(" ok"), "{line}");
    }
}

/// Every pid of the network's services (nodes and TMs).
fn pids(net: &NetDir) -> Vec<(String, u32, &'static str)> {
    net.services().into_iter().map(|(n, b)| (n.clone(), net.pid(&n), b)).collect()
}

#[test]
fn qbft_add_member_gets_private_state_then_a_fifth_validator_is_voted_in() {
    let net = NetDir::new();
    let up = net.up(&["--validators", "4", "--members", "2", "--block-period", "1"]);
    assert!(up.ok, "qnet up failed: {up}");
    let before = net.json();

    // a member with its own TM
    let add = add_node(&net, &["--role", "member"]);
    assert!(add.ok, "add-node member failed: {add}");
    eprintln!("qnet add-node --role member: done after {:?}", add.elapsed);
    let json = net.json();
    assert_eq!(json.nodes.len(), before.nodes.len() + 1);
    assert_eq!(json.nodes[..before.nodes.len()], before.nodes[..], "existing entries changed");
    let m3 = json.node("member3").unwrap_or_else(|| panic!("no member3: {add}")).clone();
    let tm3 = m3.tm.clone().expect("member3 has a TM");
    assert!(add.stdout.contains("added member3 (member)"), "{add}");
    assert!(add.stdout.contains(&tm3.public_key), "{add}");
    listed_everywhere(&net.dir, &json, &m3.enode);
    let compose = std::fs::read_to_string(net.dir.join("docker-compose.yml")).unwrap();
    assert!(
        compose.contains("\n  member3-tm:\n") && compose.contains("\n  member3:\n"),
        "{compose}"
    );
    assert_eq!(compose.matches("build:").count(), 1, "only the first service builds the image");
    // Prometheus scrapes the new node and its TM too.
    let prometheus = std::fs::read_to_string(net.dir.join("prometheus.yml")).unwrap();
    let qnode_target = m3.metrics.as_deref().expect("member3 serves metrics");
    let qnode_target = qnode_target.trim_start_matches("http://").split('/').next().unwrap();
    for target in [qnode_target, tm3.p2p.trim_start_matches("http://")] {
        assert!(prometheus.contains(&format!("targets: [\"{target}\"]")), "{target}: {prometheus}");
    }
    assert!(prometheus.contains("node: \"member3\""), "{prometheus}");
    // the member runs from its pid files, is synced and answers on every URL
    for (name, binary) in [("member3", "qnode"), ("member3-tm", "qtm")] {
        assert!(pid_alive(net.pid(name), binary), "{name} is not running");
    }
    let v1 = json.node("validator1").unwrap();
    assert!(
        head(&m3) + 2 >= head(v1),
        "member3 at {} behind validator1 at {}",
        head(&m3),
        head(v1)
    );
    crate::run_common::every_url_answers(&net.dir);
    status_all_ok(&net);

    // member1 deploys privately for member3: member3 has the state, member2 does not
    let (m1, m2) = (json.node("member1").unwrap(), json.node("member2").unwrap());
    let tx = json!([{
        "from": format!("{:#x}", m1.account),
        "data": CONTRACT,
        "gas": "0x24a22",
        "gasPrice": "0x0",
        "privateFor": [tm3.public_key],
    }]);
    let hash = crate::common::rpc(&m1.rpc, "eth_sendTransaction", tx);
    let receipt = eventually(60, "the private deploy's receipt on member3", || {
        try_rpc(&m3.rpc, "eth_getTransactionReceipt", json!([hash.clone()]))
    });
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let contract = receipt["contractAddress"].clone();
    let value = eventually(30, "the private state on member3", || {
        try_rpc(&m3.rpc, "eth_call", json!([{ "to": contract }, "latest"])).filter(|v| v != "0x")
    });
    assert_eq!(value, format!("0x{:064x}", 42).as_str());
    let code = crate::common::rpc(&m3.rpc, "eth_getCode", json!([contract, "latest"]));
    assert_ne!(code, "0x", "member3 has the private contract");
    eventually(30, "the block on member2", || {
        try_rpc(&m2.rpc, "eth_getTransactionReceipt", json!([hash.clone()]))
    });
    assert_eq!(crate::common::rpc(&m2.rpc, "eth_getCode", json!([contract, "latest"])), "0x");

    // a fifth validator, voted in by the four
    let add = add_node(&net, &["--role", "validator"]);
    assert!(add.ok, "add-node validator failed: {add}");
    eprintln!("qnet add-node --role validator: done after {:?}", add.elapsed);
    let json = net.json();
    let v5 = json.node("validator5").unwrap_or_else(|| panic!("no validator5: {add}")).clone();
    assert!(v5.tm.is_none());
    listed_everywhere(&net.dir, &json, &v5.enode);
    for n in &json.nodes {
        let set = crate::common::rpc(&n.rpc, "istanbul_getValidators", json!(["latest"]));
        let set: Vec<String> =
            set.as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_lowercase()).collect();
        assert_eq!(set.len(), 5, "{}: {set:?}", n.name);
        assert!(set.contains(&format!("{:#x}", v5.node_address)), "{}: {set:?}", n.name);
    }
    // blocks keep coming with five validators, on every node (the new validator included)
    let start: Vec<u64> = json.nodes.iter().map(head).collect();
    let deadline = Instant::now() + Duration::from_secs(40);
    for (n, h) in json.nodes.iter().zip(&start) {
        while head(n) < h + 5 {
            assert!(Instant::now() < deadline, "{} stuck at {} (was {h})", n.name, head(n));
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    // Compose accepts the file with both added nodes' services
    if let Some(config) = compose_config(&net.dir.join("docker-compose.yml")) {
        for service in ["member3:", "member3-tm:", "validator5:"] {
            assert!(config.contains(service), "{service} missing from:\n{config}");
        }
        assert_eq!(config.matches("context:").count(), 1, "{config}");
    }
    // the validator's votes are no longer pending
    let candidates = crate::common::rpc(&v1.rpc, "istanbul_candidates", json!([]));
    assert_eq!(candidates, json!({}), "{candidates}");
    status_all_ok(&net);

    // qnet down stops the added nodes too
    let all = pids(&net);
    assert!(
        all.iter().any(|(n, _, _)| n == "validator5")
            && all.iter().any(|(n, _, _)| n == "member3-tm")
    );
    let down = net.down();
    assert!(down.ok, "{down}");
    for (name, pid, binary) in all {
        assert!(!pid_alive(pid, binary), "{name} ({pid}) survived qnet down");
    }
}

#[test]
fn raft_add_member_joins_the_cluster_and_gets_blocks() {
    let net = NetDir::new();
    let up = net.up(&["--consensus", "raft", "--validators", "2", "--members", "1"]);
    assert!(up.ok, "qnet up failed: {up}");
    let add = add_node(&net, &["--role", "member", "--name", "member-new"]);
    assert!(add.ok, "add-node failed: {add}");
    eprintln!("qnet add-node (raft member): done after {:?}", add.elapsed);
    let json = net.json();
    let new = json.node("member-new").unwrap().clone();
    assert_eq!(new.raft_id, Some(5), "2 validators, rpcnode, member1, then this one");
    assert!(add.stdout.contains("raft id: 5"), "{add}");
    let flags = new.qnode_args(&net.dir).unwrap();
    assert!(flags.windows(2).any(|w| w == ["--raftjoinexisting", "5"]), "{flags:?}");
    listed_everywhere(&net.dir, &json, &new.enode);
    // a member of the cluster, as a verifier
    let cluster = crate::common::rpc(&json.nodes[0].rpc, "raft_cluster", json!([]));
    let ids: Vec<u64> =
        cluster.as_array().unwrap().iter().map(|m| m["raftId"].as_u64().unwrap()).collect();
    assert!(ids.contains(&5) && ids.len() == 5, "{cluster}");
    assert_eq!(crate::common::rpc(&new.rpc, "raft_role", json!([])), "verifier");
    // a transaction sent after the join reaches it
    let v1 = &json.nodes[0];
    let tx = json!([{ "from": format!("{:#x}", v1.account), "to": format!("{:#x}", new.account), "value": "0x1" }]);
    let hash = crate::common::rpc(&v1.rpc, "eth_sendTransaction", tx);
    let receipt = eventually(60, "the receipt on the new member", || {
        try_rpc(&new.rpc, "eth_getTransactionReceipt", json!([hash.clone()]))
    });
    assert_eq!(receipt["status"], "0x1");
    status_all_ok(&net);

    // down and up again: the added member restarts from its remounted raft log
    let down = net.down();
    assert!(down.ok && down.stdout.contains("member-new"), "{down}");
    let again = net.up(&[]);
    assert!(again.ok, "qnet up after down: {again}");
    assert!(again.stdout.contains("member-new "), "{again}");
    // after a restart of the whole cluster any voting member may win the election
    let role = crate::common::rpc(&new.rpc, "raft_role", json!([]));
    assert!(matches!(role.as_str(), Some("minter" | "verifier")), "a voting member: {role}");
    status_all_ok(&net);
}

/// What add-node may change, as relative path → bytes: the network directory's entries (logs
/// and pid files aside; top-level files with their contents) and each node's peer lists, flags
/// and TM config (not the nodes' runtime state).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "logs" || name == "run" {
            continue;
        }
        let bytes = if path.is_file() { std::fs::read(&path).unwrap() } else { Vec::new() };
        out.push((name, bytes));
    }
    let json = NetworkJson::load(dir).unwrap();
    for n in &json.nodes {
        for file in [
            "static-nodes.json",
            "permissioned-nodes.json",
            "qnode.flags",
            "tm/tessera-config.json",
        ] {
            let rel = n.datadir.join(file);
            if let Ok(bytes) = std::fs::read(dir.join(&rel)) {
                out.push((rel.to_string_lossy().into_owned(), bytes));
            }
        }
    }
    out.sort();
    out
}

fn assert_unchanged(dir: &Path, before: &[(String, Vec<u8>)], what: &str) {
    let after = snapshot(dir);
    let names = |s: &[(String, Vec<u8>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(before), "{what}: files added or removed");
    for ((name, a), (_, b)) in after.iter().zip(before) {
        assert!(a == b, "{what}: {name} changed");
    }
}

#[test]
fn bad_input_and_a_failed_start_leave_the_network_as_it_was() {
    // an unknown role: clap refuses it, nothing is read or written
    let net = NetDir::new();
    let out = add_node(&net, &["--role", "boss"]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("invalid value 'boss'"), "{out}");
    assert!(!net.dir.exists());

    // a directory without network.json
    std::fs::create_dir_all(&net.dir).unwrap();
    let out = add_node(&net, &[]);
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("holds no network.json"), "{out}");
    assert_eq!(std::fs::read_dir(&net.dir).unwrap().count(), 0);

    // a generated network that is not running
    let base = net.base.to_string();
    let init = qnet_run(&[
        "init",
        "--dir",
        net.path(),
        "--base-port",
        &base,
        "--lightkdf",
        "--validators",
        "1",
        "--members",
        "1",
        "--block-period",
        "1",
    ]);
    assert!(init.ok, "{init}");
    let before = snapshot(&net.dir);
    let out = add_node(&net, &[]);
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("is not running") && out.stderr.contains("qnet up --dir"), "{out}");
    assert_unchanged(&net.dir, &before, "add-node on a stopped network");

    // running: a taken name is refused
    let up = net.up(&[]);
    assert!(up.ok, "{up}");
    let before = snapshot(&net.dir);
    let running = pids(&net);
    let out = add_node(&net, &["--name", "member1"]);
    assert!(!out.ok && out.stderr.contains("the network has that node"), "{out}");
    assert_unchanged(&net.dir, &before, "a taken name");

    // a qnode that exits at start: its TM is stopped again, the peer lists, TM configs,
    // network.json and docker-compose.yml are restored and the node's directory is gone
    let fake = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(bin_dir().join("qtm"), fake.path().join("qtm")).unwrap();
    let qnode = fake.path().join("qnode");
    std::fs::write(&qnode, "#!/bin/sh\necho 'fake qnode: refusing to start' >&2\nexit 3\n")
        .unwrap();
    std::fs::set_permissions(&qnode, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let args = [
        "add-node",
        "--dir",
        net.path(),
        "--lightkdf",
        "--timeout",
        "30",
        "--bin-dir",
        fake.path().to_str().unwrap(),
    ];
    let out = qnet_run(&args);
    assert!(!out.ok, "{out}");
    assert!(out.stderr.contains("member2: member2 exited"), "{out}");
    assert!(out.stderr.contains("fake qnode: refusing to start"), "the log tail is shown: {out}");
    assert!(out.stderr.contains("undoing it"), "{out}");
    assert_unchanged(&net.dir, &before, "a failed start");
    assert!(!net.dir.join("run/member2-tm.pid").exists());
    let tm_log = std::fs::read_to_string(net.dir.join("logs/member2-tm.log")).unwrap();
    assert!(!tm_log.is_empty(), "member2's TM had started");
    // its TM's port is free again, the network still runs and is healthy
    for (name, pid, binary) in &running {
        assert!(pid_alive(*pid, binary), "{name} stopped");
    }
    status_all_ok(&net);
    // and the peers no longer dial the node that never came (admin_removePeer)
    let peers: Value = crate::common::rpc(&net.json().nodes[0].rpc, "admin_peers", json!([]));
    assert_eq!(peers.as_array().unwrap().len(), net.json().nodes.len() - 1, "{peers}");
}

/// A node added to a network that `qnet up` runs in the foreground is stopped with the rest
/// when that `qnet up` gets SIGTERM (it reads network.json again).
#[test]
fn foreground_up_stops_an_added_node_too() {
    let net = NetDir::new();
    let mut qnet = net.up_foreground();
    let add = add_node(&net, &[]);
    assert!(add.ok, "add-node failed: {add}");
    let all = pids(&net);
    assert!(
        all.iter().any(|(n, _, _)| n == "member2") && all.iter().any(|(n, _, _)| n == "member2-tm")
    );
    let status = qnet.stop(libc::SIGTERM, 40);
    assert!(status.success(), "qnet up exited with {status}");
    for (name, pid, binary) in all {
        assert!(!pid_alive(pid, binary), "{name} ({pid}) survived SIGTERM to qnet up");
    }
    assert_eq!(std::fs::read_dir(net.dir.join("run")).unwrap().count(), 0, "pid files left");
}
