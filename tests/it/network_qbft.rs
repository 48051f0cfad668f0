//! 4-node QBFT networks of real `qnode` processes: agreement, ethers v6 through any node,
//! validators going down and coming back, a node syncing after a long absence, and validator
//! votes.

use std::{path::Path, process::Command, time::Duration};

use alloy_primitives::{Address, U256};
use qrs_e2e::{Consensus, DEV_KEY, TestNet, Wallet, network::wait_for, rpc::quantity};
use serde_json::{Value, json};

const QBFT: Consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };

/// Sends a transfer through node `via` and waits for its receipt on node `check`.
fn transfer_through(net: &TestNet, via: usize, check: usize, nonce: u64) -> eyre::Result<Value> {
    let wallet = Wallet::dev()?;
    let raw = wallet.transfer(nonce, Address::repeat_byte(0x42), U256::from(1))?;
    let hash = net.rpc(via)?.send_raw(&raw).map_err(|e| eyre::eyre!("{e:?}"))?;
    net.rpc(check)?.wait_receipt(hash, Duration::from_secs(30))
}

#[test]
fn qbft_four_validators_agree_and_ethers_works_through_any_node() -> eyre::Result<()> {
    let mut net = TestNet::start(QBFT, 4)?;
    net.wait_for_height(2, Duration::from_secs(30))?;
    // a transfer through each node, each seen on the next one
    for i in 0..4 {
        let receipt = transfer_through(&net, i, (i + 1) % 4, i as u64)?;
        assert_eq!(receipt["status"], "0x1");
    }
    // every block carries a quorum of committed seals from the validators
    let signers: Value = net.rpc(0)?.req("istanbul_getSignersFromBlock", json!(["0x2"]))?;
    let committers = signers["Committers"].as_array().map(Vec::len).unwrap_or_default();
    assert!(committers >= 3, "block 2 has {committers} committers: {signers}");

    // ethers v6, unmodified, through every node
    let urls: Vec<String> = (0..4).map(|i| net.node(i).http_url().to_string()).collect();
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    let out = Command::new("node")
        .arg("--test")
        .arg("network.test.mjs")
        .current_dir(&script_dir)
        .env("QRS_RPC_URLS", urls.join(","))
        .env("QRS_DEV_KEY", DEV_KEY.to_string())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("# fail 0"),
        "ethers network test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let height = net.assert_no_fork()?;
    assert!(height >= 6, "the chain advanced: {height}");
    Ok(())
}

#[test]
fn qbft_one_down_continues_two_down_halts_then_resumes() -> eyre::Result<()> {
    let mut net = TestNet::start(QBFT, 4)?;
    net.wait_for_height(2, Duration::from_secs(30))?;

    // 1 of 4 down: 3 is still a quorum
    net.kill(3)?;
    let (h, _, _) = net.head(0)?;
    net.wait_for_height(h + 3, Duration::from_secs(40))?;
    let receipt = transfer_through(&net, 1, 2, 0)?;
    assert_eq!(receipt["status"], "0x1");

    // 2 of 4 down: no quorum, the chain halts without forking
    net.kill(2)?;
    std::thread::sleep(Duration::from_secs(3));
    let (halted, _, _) = net.head(0)?;
    std::thread::sleep(Duration::from_secs(6));
    let (later, _, _) = net.head(0)?;
    assert_eq!(later, halted, "no block without a quorum");
    net.assert_no_fork()?;

    // both come back: the chain resumes and they catch up
    net.restart(2)?;
    net.restart(3)?;
    net.wait_peered(3, Duration::from_secs(30))?;
    net.wait_for_height(halted + 3, Duration::from_secs(90))?;
    let receipt = transfer_through(&net, 3, 0, 1)?;
    assert_eq!(receipt["status"], "0x1");
    let common = net.assert_no_fork()?;
    assert!(common >= halted + 3);
    Ok(())
}

#[test]
fn qbft_node_restarted_after_many_blocks_syncs_and_rejoins() -> eyre::Result<()> {
    let mut net = TestNet::start(QBFT, 4)?;
    net.wait_for_height(1, Duration::from_secs(30))?;
    net.stop(3)?;
    let (h, _, _) = net.head(0)?;
    net.wait_for_height(h + 15, Duration::from_secs(60))?;
    net.restart(3)?;
    let (target, _, _) = net.head(0)?;
    let rpc = net.rpc(3)?;
    wait_for(Duration::from_secs(60), "node 3 to catch up", || {
        (rpc.block_number().ok()? >= target).then_some(())
    })?;
    // it takes part again: with node 2 down, blocks need node 3's votes
    net.kill(2)?;
    let (h, _, _) = net.head(0)?;
    net.wait_for_height(h + 2, Duration::from_secs(60))?;
    net.assert_no_fork()?;
    Ok(())
}

fn validators(net: &TestNet, i: usize) -> eyre::Result<Vec<Address>> {
    let v: Vec<Address> = net.rpc(i)?.req("istanbul_getValidators", json!(["latest"]))?;
    Ok(v)
}

#[test]
fn qbft_validator_added_and_removed_by_votes() -> eyre::Result<()> {
    let mut net = TestNet::start_with_validators(QBFT, 5, 4)?;
    net.wait_for_height(1, Duration::from_secs(30))?;
    let newcomer = net.ids[4].address;
    assert!(!validators(&net, 0)?.contains(&newcomer));

    // a majority of the 4 validators votes the fifth node in
    for i in 0..3 {
        net.rpc(i)?.req::<Value>("istanbul_propose", json!([newcomer, true]))?;
    }
    let added_at = wait_for(Duration::from_secs(60), "the fifth validator", || {
        let v = validators(&net, 4).ok()?;
        v.contains(&newcomer).then(|| net.head(4).ok().map(|h| h.0)).flatten()
    })?;
    // the validator list in extraData changes at exactly one block: find it and check its parent
    let rpc = net.rpc(0)?;
    let extra_validators = |n: u64| -> eyre::Result<Vec<Address>> {
        let block = rpc.block(n, false)?;
        let extra: alloy_primitives::Bytes = serde_json::from_value(block["extraData"].clone())?;
        Ok(qrs_qbft::QbftExtra::decode_extra(&extra).map_err(|e| eyre::eyre!("{e}"))?.validators)
    };
    // GoQuorum writes the new set into the extraData of the block after the deciding vote
    net.wait_for_height(added_at + 2, Duration::from_secs(30))?;
    let first = (1..=added_at + 2)
        .find(|&n| extra_validators(n).map(|v| v.contains(&newcomer)).unwrap_or(false))
        .ok_or_else(|| {
            eyre::eyre!("no block up to {} lists the newcomer in extraData", added_at + 2)
        })?;
    assert_eq!(extra_validators(first - 1)?.len(), 4);
    assert_eq!(extra_validators(first)?.len(), 5);
    let snapshot: Value = net.rpc(0)?.req("istanbul_getSnapshot", json!(["latest"]))?;
    assert_eq!(snapshot["validators"].as_array().map(Vec::len), Some(5), "{snapshot}");

    // now 3 of the 5 vote the first validator out
    let leaving = net.ids[0].address;
    for i in 1..4 {
        net.rpc(i)?.req::<Value>("istanbul_propose", json!([leaving, false]))?;
    }
    wait_for(Duration::from_secs(60), "validator 0 to be voted out", || {
        (!validators(&net, 1).ok()?.contains(&leaving)).then_some(())
    })?;
    let (h, _, _) = net.head(1)?;
    net.wait_for_height(h + 2, Duration::from_secs(30))?;
    net.assert_no_fork()?;
    let n = quantity(
        &net.rpc(1)?.call("eth_blockNumber", json!([])).map_err(|e| eyre::eyre!("{e:?}"))?,
    )?;
    assert!(n > h);
    Ok(())
}

#[test]
fn qbft_partitioned_validator_does_not_fork_and_catches_up_after_healing() -> eyre::Result<()> {
    let mut net = TestNet::start(QBFT, 4)?;
    net.wait_for_height(2, Duration::from_secs(30))?;
    // cut node 3 off: every link to it is dropped on both ends and not re-dialled
    let cut = net.ids[3].enode(false);
    for i in 0..3 {
        let other = net.ids[i].enode(false);
        net.rpc(i)?.req::<Value>("admin_removePeer", json!([cut]))?;
        net.rpc(3)?.req::<Value>("admin_removePeer", json!([other]))?;
    }
    let isolated = net.rpc(3)?;
    wait_for(Duration::from_secs(20), "node 3 to lose its peers", || {
        (quantity(&isolated.call("net_peerCount", json!([])).ok()?).ok()? == 0).then_some(())
    })?;
    let (cut_at, _, _) = net.head(3)?;
    // the majority side goes on; the isolated validator cannot decide anything alone
    let (h, _, _) = net.head(0)?;
    let rpc0 = net.rpc(0)?;
    wait_for(Duration::from_secs(40), "the majority to make 5 blocks", || {
        (rpc0.block_number().ok()? >= h + 5).then_some(())
    })?;
    let (stalled, _, _) = net.head(3)?;
    assert!(
        stalled <= cut_at + 1,
        "the isolated validator made blocks alone: {cut_at} -> {stalled}"
    );
    // heal: it catches up on the majority's chain, with no fork anywhere
    for i in 0..3 {
        let other = net.ids[i].enode(false);
        net.rpc(i)?.req::<Value>("admin_addPeer", json!([cut]))?;
        net.rpc(3)?.req::<Value>("admin_addPeer", json!([other]))?;
    }
    let (target, _, _) = net.head(0)?;
    wait_for(Duration::from_secs(60), "node 3 to catch up after healing", || {
        (isolated.block_number().ok()? >= target).then_some(())
    })?;
    let common = net.assert_no_fork()?;
    assert!(common >= target);
    Ok(())
}
