//! `qnet up --detach` / `status` / `down` on real processes: a fresh directory becomes a healthy
//! network whose every URL answers; a killed node makes `status` fail naming it; `up` again
//! restarts only that node; `down` stops everything.

use qrs_qnet::run::procs::pid_alive;

use crate::run_common::{NetDir, every_url_answers, kill9, network_json_is_complete, wait_gone};

/// The whole lifecycle on a generated network of `consensus`.
fn lifecycle(consensus: &str, validators: &str, members: &str, victim: &str) {
    let net = NetDir::new();
    let opts = [
        "--consensus",
        consensus,
        "--validators",
        validators,
        "--members",
        members,
        "--block-period",
        "1",
    ];
    let up = net.up(&opts);
    assert!(up.ok, "qnet up failed: {up}");
    assert!(up.stderr.contains(&format!("generated a {consensus} network")), "{up}");
    eprintln!(
        "qnet up ({consensus}, {validators} validators, {members} members): healthy after {:?}",
        up.elapsed
    );
    let json = net.json();
    // the summary names every node with its endpoints and a head block
    for n in &json.nodes {
        let line = up.stdout.lines().find(|l| l.starts_with(&format!("{} ", n.name)));
        let line = line.unwrap_or_else(|| panic!("{} not in the summary: {up}", n.name));
        assert!(line.contains(&n.rpc) && line.contains(&n.ws), "{line}");
        if let Some(tm) = &n.tm {
            assert!(line.contains(&tm.third_party), "{line}");
        }
    }
    network_json_is_complete(&net.dir);
    every_url_answers(&net.dir);
    // every service runs from its pid file and logs into logs/
    let services = net.services();
    for (name, binary) in &services {
        assert!(pid_alive(net.pid(name), binary), "{name} is not running");
        let log = net.dir.join("logs").join(format!("{name}.log"));
        assert!(std::fs::metadata(&log).is_ok_and(|m| m.len() > 0), "{} is empty", log.display());
    }

    let status = net.status();
    assert!(status.ok, "status of a healthy network: {status}");
    assert_eq!(
        status.stdout.lines().filter(|l| l.trim_end().ends_with(" ok")).count(),
        json.nodes.len(),
        "{status}"
    );

    // kill one node: status fails and names it
    let pid = net.pid(victim);
    kill9(pid);
    wait_gone(pid, "qnode");
    let status = net.status();
    assert_eq!(status.code, Some(1), "status with {victim} killed: {status}");
    assert!(status.stderr.contains(&format!("unhealthy: {victim}:")), "{status}");
    let others_ok = status.stdout.lines().filter(|l| l.trim_end().ends_with(" ok")).count();
    assert!(others_ok >= 1, "{status}");

    // up again starts only what is down, and the network is healthy again
    let again = net.up(&[]);
    assert!(again.ok, "second qnet up failed: {again}");
    let restarted: Vec<&str> = again.stderr.lines().filter(|l| l.contains("started ")).collect();
    assert_eq!(restarted.len(), 1, "only {victim} restarts: {again}");
    assert!(restarted[0].contains(&format!("started {victim} ")), "{again}");
    assert_ne!(net.pid(victim), pid);
    let status = net.status();
    assert!(status.ok, "status after the restart: {status}");

    // down stops every process and removes the pid files
    let pids: Vec<(u32, &str)> = services.iter().map(|(n, b)| (net.pid(n), *b)).collect();
    let down = net.down();
    assert!(down.ok, "{down}");
    for (pid, binary) in pids {
        assert!(!pid_alive(pid, binary), "{binary} {pid} survived qnet down");
    }
    assert_eq!(std::fs::read_dir(net.dir.join("run")).unwrap().count(), 0, "pid files left");
    let status = net.status();
    assert_eq!(status.code, Some(1), "status of a stopped network: {status}");
    let down = net.down();
    assert!(down.ok && down.stdout.contains("nothing was running"), "{down}");
}

#[test]
fn qbft_up_status_kill_restart_down() {
    lifecycle("qbft", "4", "2", "validator3");
}

#[test]
fn raft_up_status_kill_restart_down() {
    lifecycle("raft", "2", "2", "member2");
}

#[test]
fn foreground_up_stops_everything_on_sigterm_and_sigint() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let net = NetDir::new();
        let mut qnet = net.up_foreground();
        let pids: Vec<(u32, &str)> = net.services().iter().map(|(n, b)| (net.pid(n), *b)).collect();
        assert_eq!(pids.len(), 4); // validator1, rpcnode, member1, member1-tm
        assert!(pids.iter().all(|(p, b)| pid_alive(*p, b)));
        let status = qnet.stop(signal, 30);
        assert!(status.success(), "qnet exited with {status} on signal {signal}");
        for (pid, binary) in pids {
            assert!(!pid_alive(pid, binary), "{binary} {pid} survived signal {signal} to qnet up");
        }
        assert_eq!(std::fs::read_dir(net.dir.join("run")).unwrap().count(), 0, "pid files left");
    }
}
