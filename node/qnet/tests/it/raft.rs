//! A generated Raft network runs: every node started from its generated flags (as `start.sh`
//! does) elects a leader and mines a transaction that every node then sees.

use std::{
    io::Write as _,
    time::{Duration, Instant},
};

use qrs_qnet::Consensus;
use serde_json::{Value, json};

use crate::common::{network, rpc, sibling_bin, start_node};

/// Polls `f` every 200 ms until it returns `Some`, failing after `secs` with `what`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A JSON-RPC call that may fail (node still starting, method error): `None` then.
pub fn try_rpc(url: &str, method: &str, params: Value) -> Option<Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let resp: Value = reqwest::blocking::Client::new()
        .post(url)
        .json(&body)
        .timeout(Duration::from_secs(5))
        .send()
        .ok()?
        .json()
        .ok()?;
    resp.get("result").filter(|r| !r.is_null()).cloned()
}

#[test]
fn raft_network_from_generated_flags_elects_a_leader_and_mines() {
    let net = network(Consensus::Raft, 2, 0);
    let d = net.path();
    let qnode = sibling_bin("qnode");
    std::fs::create_dir_all(d.join("logs")).unwrap();
    let mut procs = Vec::new();
    for n in &net.json.nodes {
        let log = d.join("logs").join(format!("{}.log", n.name));
        procs.push(start_node(d, n, &qnode, Some(&log)));
    }
    let logs = || {
        let mut all = String::new();
        for n in &net.json.nodes {
            let text = std::fs::read_to_string(d.join("logs").join(format!("{}.log", n.name)));
            let text = text.unwrap_or_default();
            let tail: Vec<_> = text.lines().rev().take(15).collect();
            all.push_str(&format!(
                "--- {} ---\n{}\n",
                n.name,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        all
    };
    let result = std::panic::catch_unwind(|| {
        // one leader, known to every node
        let leader = eventually(60, "a raft leader", || {
            let leaders: Vec<Value> = net
                .json
                .nodes
                .iter()
                .map(|n| try_rpc(&n.rpc, "raft_leader", json!([])))
                .collect::<Option<_>>()?;
            leaders.windows(2).all(|w| w[0] == w[1]).then(|| leaders[0].clone())
        });
        assert!(net.json.nodes.iter().any(|n| n.enode.contains(leader.as_str().unwrap())));
        // a node-signed transfer from validator1's unlocked account is mined and seen everywhere
        let v1 = &net.json.nodes[0];
        let tx = json!([{ "from": format!("{:#x}", v1.account),
            "to": format!("{:#x}", net.json.nodes[1].account), "value": "0x1" }]);
        let hash = rpc(&v1.rpc, "eth_sendTransaction", tx);
        for n in &net.json.nodes {
            let receipt = eventually(60, &format!("the receipt on {}", n.name), || {
                try_rpc(&n.rpc, "eth_getTransactionReceipt", json!([hash.clone()]))
            });
            assert_eq!(receipt["status"], "0x1");
        }
    });
    if let Err(panic) = result {
        let _ = writeln!(std::io::stderr(), "node logs:\n{}", logs());
        std::panic::resume_unwind(panic);
    }
    drop(procs);
}
