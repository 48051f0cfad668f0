//! The generated files run: a member datadir under the real qnode, the TM configs under the
//! real qtm (binaries built next to the test executable).

use std::{
    process::Command,
    time::{Duration, Instant},
};

use alloy_primitives::U256;
use qrs_chainspec::ChainSpec;
use qrs_qnet::{Consensus, NodeEntry};
use serde_json::{Value, json};

use crate::common::{Proc, network, rpc, sibling_bin, start_node};

#[test]
fn member_starts_with_the_real_qnode_from_its_generated_flags() {
    let net = network(Consensus::Qbft, 4, 1);
    let d = net.path();
    let member = net.json.node("member1").unwrap();
    // its TM first (qnode checks --ptm.url at start, like GoQuorum), then the node through its
    // generated start.sh (from the network directory, on the generated ports)
    let _tm = start_qtm(d, member);
    let _node = start_node(d, member, &sibling_bin("qnode"), None);
    let url = member.rpc.as_str();

    assert_eq!(rpc(url, "eth_chainId", json!([])), "0x539"); // 1337
    let accounts = rpc(url, "eth_accounts", json!([]));
    assert_eq!(accounts, json!([format!("{:#x}", member.account)]));
    let balance = rpc(url, "eth_getBalance", json!([format!("{:#x}", member.account), "latest"]));
    let balance: U256 = serde_json::from_value(balance).unwrap();
    assert_eq!(balance, U256::from(10u128.pow(27)));
    let genesis = rpc(url, "eth_getBlockByNumber", json!(["0x0", false]));
    let spec = ChainSpec::from_file(&d.join("genesis.json")).unwrap();
    assert_eq!(genesis["hash"], format!("{:#x}", spec.genesis_hash()));
    assert_eq!(genesis["extraData"], spec.genesis.extra_data.to_string());
}

/// Starts the member's qtm with its generated `tm/start.sh` and waits until it has printed its three servers.
fn start_qtm(dir: &std::path::Path, node: &NodeEntry) -> Proc {
    let tm = node.tm.as_ref().unwrap();
    // through the generated script (it cds to the network directory and execs $QTM)
    let mut cmd = Command::new("sh");
    cmd.arg(dir.join(&tm.start_script)).env("QTM", sibling_bin("qtm"));
    let mut qtm = Proc::spawn(cmd);
    let listening = qtm.wait_lines("qtm listening", 3);
    for url in [&tm.third_party, &tm.q2t, &tm.p2p] {
        assert!(listening.iter().any(|l| l.ends_with(&format!("url={url}"))), "{listening:?}");
    }
    qtm
}

#[test]
fn qtms_start_from_generated_configs_answer_upcheck_and_find_each_other() {
    let net = network(Consensus::Qbft, 1, 2);
    let d = net.path();
    let m1 = net.json.node("member1").unwrap();
    let m2 = net.json.node("member2").unwrap();
    let _q1 = start_qtm(d, m1);
    let _q2 = start_qtm(d, m2);
    let http = reqwest::blocking::Client::new();
    let (tm1, tm2) = (m1.tm.as_ref().unwrap(), m2.tm.as_ref().unwrap());
    for url in [&tm1.third_party, &tm1.q2t, &tm1.p2p, &tm2.third_party] {
        let resp = http.get(format!("{url}/upcheck")).send().unwrap();
        assert!(resp.status().is_success(), "{url}/upcheck: {}", resp.status());
        assert_eq!(resp.text().unwrap(), "I'm up!");
    }
    // its own key is the one in network.json
    let keys: Value = http.get(format!("{}/keys", tm1.third_party)).send().unwrap().json().unwrap();
    assert_eq!(keys["keys"][0]["key"], tm1.public_key.as_str(), "{keys}");
    // the static peer list makes member1's TM learn member2's key (PartyInfo discovery)
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let known: Value =
            http.get(format!("{}/partyinfo/keys", tm1.third_party)).send().unwrap().json().unwrap();
        let found = known["keys"]
            .as_array()
            .is_some_and(|ks| ks.iter().any(|k| k["key"] == tm2.public_key.as_str()));
        if found {
            break;
        }
        assert!(Instant::now() < deadline, "member1's TM never learnt member2's key: {known}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
