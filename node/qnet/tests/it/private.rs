//! A generated Raft network with members runs private transactions: member1 deploys a contract
//! privately for member2 through its TM (node-signed `eth_sendTransaction` with `privateFor`, as
//! the quickstart's script does); member1 and member2 read it, member3 sees no contract.

use std::{fs::File, io::Write as _, process::Command};

use qrs_qnet::Consensus;
use serde_json::json;

use crate::{
    common::{Proc, network, rpc, sibling_bin, start_node},
    raft::{eventually, try_rpc},
};

/// Init code: stores 42 in slot 0 and deploys a runtime that returns slot 0.
const CONTRACT: &str = "0x602a600055600b6011600039600b6000f360005460005260206000f3";

#[test]
fn private_deploy_between_generated_members() {
    let net = network(Consensus::Raft, 1, 3);
    let d = net.path();
    let (qnode, qtm) = (sibling_bin("qnode"), sibling_bin("qtm"));
    std::fs::create_dir_all(d.join("logs")).unwrap();
    let log = |name: &str| File::create(d.join("logs").join(format!("{name}.log"))).unwrap();
    let mut procs = Vec::new();
    for n in net.json.nodes.iter().filter(|n| n.tm.is_some()) {
        let mut cmd = Command::new("sh");
        cmd.arg(d.join(&n.tm.as_ref().unwrap().start_script)).env("QTM", &qtm);
        cmd.stderr(log(&format!("{}-tm", n.name)));
        let mut p = Proc::spawn(cmd);
        p.wait_lines("qtm listening", 3);
        procs.push(p);
    }
    for n in &net.json.nodes {
        procs.push(start_node(d, n, &qnode, Some(&d.join("logs").join(format!("{}.log", n.name)))));
    }
    let result = std::panic::catch_unwind(|| {
        let [m1, m2, m3] = ["member1", "member2", "member3"].map(|m| net.json.node(m).unwrap());
        eventually(60, "a raft leader", || try_rpc(&m1.rpc, "raft_leader", json!([])));
        let tx = json!([{
            "from": format!("{:#x}", m1.account),
            "data": CONTRACT,
            "gas": "0x24a22",
            "gasPrice": "0x0",
            "privateFor": [m2.tm.as_ref().unwrap().public_key],
        }]);
        let hash = rpc(&m1.rpc, "eth_sendTransaction", tx);
        let receipt = eventually(60, "the private deploy's receipt", || {
            try_rpc(&m1.rpc, "eth_getTransactionReceipt", json!([hash.clone()]))
        });
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        let contract = receipt["contractAddress"].clone();
        let call = json!([{ "to": contract }, "latest"]);
        let forty_two = format!("0x{:064x}", 42);
        for party in [m1, m2] {
            let value = eventually(30, &format!("the private state on {}", party.name), || {
                try_rpc(&party.rpc, "eth_call", call.clone()).filter(|v| v != "0x")
            });
            assert_eq!(value, forty_two.as_str(), "{}", party.name);
        }
        // member3 has the block but not the private state
        eventually(30, "the block on member3", || {
            try_rpc(&m3.rpc, "eth_getTransactionReceipt", json!([hash.clone()]))
        });
        assert_eq!(rpc(&m3.rpc, "eth_getCode", json!([contract, "latest"])), "0x");
        // on chain it is a private transaction (v = 37/38, the payload hash as data)
        let on_chain = rpc(&m3.rpc, "eth_getTransactionByHash", json!([hash]));
        assert!(on_chain["v"] == "0x25" || on_chain["v"] == "0x26", "{on_chain}");
        assert_ne!(on_chain["input"], CONTRACT);
    });
    if let Err(panic) = result {
        for entry in std::fs::read_dir(d.join("logs")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<_> = text.lines().rev().take(10).collect::<Vec<_>>();
            let tail: Vec<_> = tail.into_iter().rev().collect();
            let _ = writeln!(std::io::stderr(), "--- {} ---\n{}", path.display(), tail.join("\n"));
        }
        std::panic::resume_unwind(panic);
    }
    drop(procs);
}
