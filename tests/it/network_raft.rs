//! 3-node Raft networks of real `qnode` processes: minting only with transactions, leader
//! failover without losing acknowledged transactions, learners joining and being promoted, and
//! removing a node.

use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use qrs_e2e::{Consensus, TestNet, Wallet, network::wait_for};
use serde_json::{Value, json};

const RAFT: Consensus = Consensus::Raft { block_time_ms: 50 };

fn leader_index(net: &mut TestNet) -> eyre::Result<usize> {
    let running = net.running();
    wait_for(Duration::from_secs(20), "a raft minter", || {
        running.iter().copied().find(|&i| {
            net.rpc(i)
                .ok()
                .and_then(|r| r.req::<String>("raft_role", json!([])).ok())
                .is_some_and(|role| role == "minter")
        })
    })
}

fn send_transfers(
    net: &TestNet,
    via: usize,
    first_nonce: u64,
    count: u64,
) -> eyre::Result<Vec<B256>> {
    let wallet = Wallet::dev()?;
    let rpc = net.rpc(via)?;
    let mut hashes = Vec::new();
    for nonce in first_nonce..first_nonce + count {
        let raw = wallet.transfer(nonce, Address::repeat_byte(0x24), U256::from(1))?;
        hashes.push(rpc.send_raw(&raw).map_err(|e| eyre::eyre!("{e:?}"))?);
    }
    Ok(hashes)
}

/// Log lines left out of a timeout's report (heartbeats and connection chatter).
const NOISE: &[&str] =
    &["MsgHeartbeat", "multistream_select", "yamux", "libp2p_", "raft::core: Sending"];

/// Waits up to 60 s (the CI machine runs other networks on its 2 cores meanwhile) for `hash`'s
/// receipt on node `on`; on a timeout the error carries the tail of every running node's log.
fn wait_mined(net: &mut TestNet, on: usize, hash: B256) -> eyre::Result<Value> {
    match net.rpc(on)?.wait_receipt(hash, Duration::from_secs(60)) {
        Ok(receipt) => Ok(receipt),
        Err(e) => {
            let logs: Vec<String> = net
                .running()
                .into_iter()
                .map(|n| format!("--- node {n} ---\n{}", net.node(n).log_tail_without(80, NOISE)))
                .collect();
            Err(e.wrap_err(format!("not mined on node {on}\n{}", logs.join("\n"))))
        }
    }
}

#[test]
fn raft_mints_only_with_transactions_and_all_nodes_agree() -> eyre::Result<()> {
    let mut net = TestNet::start(RAFT, 3)?;
    let leader = leader_index(&mut net)?;
    let (idle, _, _) = net.head(leader)?;
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(net.head(leader)?.0, idle, "no empty blocks while the pool is empty");

    let follower = (leader + 1) % 3;
    let hashes = send_transfers(&net, follower, 0, 20)?;
    for h in &hashes {
        let r = wait_mined(&mut net, (leader + 2) % 3, *h)?;
        assert_eq!(r["status"], "0x1");
    }
    let rpc = net.rpc(0)?;
    let cluster: Vec<Value> = rpc.req("raft_cluster", json!([]))?;
    assert_eq!(cluster.len(), 3, "{cluster:?}");
    net.wait_for_height(net.head(leader)?.0, Duration::from_secs(10))?;
    net.assert_no_fork()?;
    Ok(())
}

#[test]
fn raft_leader_killed_new_minter_and_no_acknowledged_tx_lost() -> eyre::Result<()> {
    let mut net = TestNet::start(RAFT, 3)?;
    let leader = leader_index(&mut net)?;
    let follower = (leader + 1) % 3;
    let hashes = send_transfers(&net, follower, 0, 30)?;
    for h in &hashes {
        wait_mined(&mut net, follower, *h)?;
    }
    net.kill(leader)?;
    let new_leader = leader_index(&mut net)?;
    assert_ne!(new_leader, leader);
    // every acknowledged transaction is still there, and the chain goes on
    for i in net.running() {
        for h in &hashes {
            let r = net.rpc(i)?.receipt(*h)?;
            assert_eq!(r["status"], "0x1", "tx {h} on node {i}");
        }
    }
    let more = send_transfers(&net, new_leader, 30, 5)?;
    for h in &more {
        wait_mined(&mut net, follower, *h)?;
    }
    // the old leader comes back as a follower and catches up
    net.restart(leader)?;
    let (h, _, _) = net.head(new_leader)?;
    net.wait_for_height(h, Duration::from_secs(30))?;
    net.assert_no_fork()?;
    Ok(())
}

#[test]
fn raft_learner_joins_is_promoted_and_a_node_is_removed() -> eyre::Result<()> {
    let mut net = TestNet::start(RAFT, 3)?;
    let leader = leader_index(&mut net)?;
    send_transfers(&net, leader, 0, 3)?;
    let newcomer = net.new_identity()?;
    let raft_id: u64 = net.rpc(leader)?.req("raft_addLearner", json!([newcomer.enode(true)]))?;
    let i = net.start_new_node(&["--raftjoinexisting".into(), raft_id.to_string()])?;
    // it receives blocks as a learner
    let hashes = send_transfers(&net, leader, 3, 3)?;
    wait_mined(&mut net, i, hashes[2])?;
    let learner = net.rpc(i)?;
    wait_for(Duration::from_secs(20), "the new node to be a learner", || {
        (learner.req::<String>("raft_role", json!([])).ok()? == "learner").then_some(())
    })?;
    net.rpc(leader)?.req::<Value>("raft_promoteToPeer", json!([raft_id]))?;
    let rpc = net.rpc(i)?;
    wait_for(Duration::from_secs(20), "the learner to be promoted", || {
        (rpc.req::<String>("raft_role", json!([])).ok()? == "verifier").then_some(())
    })?;

    // remove one of the original followers: the cluster shrinks and goes on
    let removed = (leader + 1) % 3;
    let removed_id: u64 =
        net.rpc(leader)?.req("raft_getRaftId", json!([net.ids[removed].enode_id.clone()]))?;
    net.rpc(leader)?.req::<Value>("raft_removePeer", json!([removed_id]))?;
    wait_for(Duration::from_secs(20), "the cluster to shrink", || {
        let c: Vec<Value> = net.rpc(leader).ok()?.req("raft_cluster", json!([])).ok()?;
        (c.len() == 3).then_some(())
    })?;
    let more = send_transfers(&net, leader, 6, 3)?;
    wait_mined(&mut net, i, more[2])?;
    Ok(())
}
