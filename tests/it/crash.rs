//! `kill -9` (or SIGTERM) in the middle of a transaction stream, then restart on the same data
//! directory: the chain is consistent up to its head and goes on.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::EIP1186AccountProofResponse;
use qrs_e2e::{
    DEV_ADDRESS, Rpc, RpcError, Wallet,
    rpc::{quantity, quantity_u256},
    verify::{check_account_proof, check_header_hash},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;

use crate::common::dev_node;

/// The dev account's genesis balance (`qnode --dev`: 10^27 wei).
const DEV_FUNDS: u128 = 10u128.pow(27);
const CYCLES: u64 = 3;
const RECIPIENTS: u8 = 4;

fn recipient(nonce: u64) -> Address {
    Address::with_last_byte(0xa0 + (nonce % u64::from(RECIPIENTS)) as u8)
}

fn seed() -> u64 {
    match std::env::var("QRS_E2E_SEED") {
        Ok(s) => s.parse().unwrap_or_else(|_| panic!("QRS_E2E_SEED={s:?} is not a u64")),
        Err(_) => {
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7)
        }
    }
}

/// Sends transfers with consecutive nonces from `first_nonce` until sending fails (the node died)
/// or `stop` is set; returns how many the node accepted.
fn load(url: String, first_nonce: u64, stop: Arc<AtomicBool>) -> eyre::Result<u64> {
    let rpc = Rpc::new(&url)?;
    let w = Wallet::dev()?;
    let mut nonce = first_nonce;
    while !stop.load(Ordering::Relaxed) {
        let raw = w.transfer(nonce, recipient(nonce), U256::from(nonce + 1))?;
        match rpc.send_raw(&raw) {
            Ok(_) => nonce += 1,
            Err(RpcError::Transport(_)) => break,
            // Back-pressure when the miner falls behind: wait and resend the same nonce.
            Err(RpcError::Rpc { message, .. }) if message == "txpool is full" => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(eyre::eyre!("nonce {nonce} refused while the node was up: {e}")),
        }
    }
    Ok(nonce - first_nonce)
}

/// What the chain says was mined, recomputed block by block.
#[derive(Debug, Default)]
struct Ledger {
    dev_nonce: u64,
    spent: U256,
    received: BTreeMap<Address, U256>,
}

/// Walks blocks 0..=head: every block is present, links to its parent, hashes to its header,
/// and every transaction has its receipt (status 1, in this block). Returns the ledger and the
/// head's state root.
fn walk_chain(rpc: &Rpc, head: u64) -> eyre::Result<(Ledger, B256)> {
    let mut ledger = Ledger::default();
    let mut parent = B256::ZERO;
    let mut state_root = B256::ZERO;
    for n in 0..=head {
        let block = rpc.block(n, true)?;
        let hash = check_header_hash(&block)?;
        if n > 0 {
            assert_eq!(
                serde_json::from_value::<B256>(block["parentHash"].clone())?,
                parent,
                "block {n} parent"
            );
        }
        let txs = block["transactions"].as_array().cloned().unwrap_or_default();
        let receipts: Vec<serde_json::Value> =
            rpc.req("eth_getBlockReceipts", json!([format!("{n:#x}")]))?;
        assert_eq!(
            receipts.len(),
            txs.len(),
            "block {n}: {} receipts for {} transactions",
            receipts.len(),
            txs.len()
        );
        for (i, (tx, receipt)) in txs.iter().zip(&receipts).enumerate() {
            assert_eq!(receipt["transactionHash"], tx["hash"], "block {n} receipt {i}");
            assert_eq!(
                serde_json::from_value::<B256>(receipt["blockHash"].clone())?,
                hash,
                "block {n} receipt {i}"
            );
            assert_eq!(quantity(&receipt["transactionIndex"])?, i as u64);
            assert_eq!(receipt["status"], json!("0x1"), "block {n} tx {i}: {receipt}");
            let from: Address = serde_json::from_value(tx["from"].clone())?;
            assert_eq!(from, DEV_ADDRESS);
            assert_eq!(
                quantity(&tx["nonce"])?,
                ledger.dev_nonce,
                "block {n} tx {i}: nonces must be consecutive"
            );
            ledger.dev_nonce += 1;
            let value = quantity_u256(&tx["value"])?;
            ledger.spent += value;
            let to: Address = serde_json::from_value(tx["to"].clone())?;
            *ledger.received.entry(to).or_default() += value;
        }
        // The receipt lookup by hash agrees for the head block (where a torn write would show).
        if n == head {
            let mut forged = block.clone();
            forged["stateRoot"] = json!(B256::repeat_byte(1));
            assert!(
                check_header_hash(&forged).is_err(),
                "a header with a forged state root hashed right"
            );
            for tx in &txs {
                assert!(
                    !rpc.receipt(serde_json::from_value(tx["hash"].clone())?)?.is_null(),
                    "head tx without receipt"
                );
            }
        }
        parent = hash;
        state_root = serde_json::from_value(block["stateRoot"].clone())?;
    }
    Ok((ledger, state_root))
}

/// The head state agrees with the ledger recomputed from the blocks, and `eth_getProof` of the
/// dev account (and the recipients) verifies against the head's state root.
fn check_head_state(rpc: &Rpc, head: u64, ledger: &Ledger, state_root: B256) -> eyre::Result<()> {
    let tag = format!("{head:#x}");
    let proof: EIP1186AccountProofResponse =
        rpc.req("eth_getProof", json!([DEV_ADDRESS, [], tag]))?;
    check_account_proof(&proof, DEV_ADDRESS, state_root)?;
    assert_eq!(proof.nonce, ledger.dev_nonce, "dev nonce at head vs transactions mined");
    assert_eq!(
        proof.balance,
        U256::from(DEV_FUNDS) - ledger.spent,
        "dev balance at head vs values mined"
    );
    assert_eq!(rpc.nonce(DEV_ADDRESS, &tag)?, ledger.dev_nonce);
    assert_eq!(rpc.balance(DEV_ADDRESS, &tag)?, proof.balance);
    for (to, received) in &ledger.received {
        let p: EIP1186AccountProofResponse = rpc.req("eth_getProof", json!([to, [], tag]))?;
        check_account_proof(&p, *to, state_root)?;
        assert_eq!(p.balance, *received, "balance of {to:#x}");
    }
    Ok(())
}

/// How the node is stopped in the middle of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `kill -9`.
    Kill,
    /// SIGTERM: must exit 0 in time.
    Term,
}

#[test]
fn sigkill_mid_load_then_restart_is_consistent() -> eyre::Result<()> {
    stop_mid_load(Stop::Kill, CYCLES)
}

#[test]
fn sigterm_mid_load_exits_cleanly_and_is_consistent() -> eyre::Result<()> {
    stop_mid_load(Stop::Term, 2)
}

fn stop_mid_load(how: Stop, cycles: u64) -> eyre::Result<()> {
    let base_seed = seed();
    eprintln!("{how:?} test seed: {base_seed} (rerun with QRS_E2E_SEED={base_seed})");
    let mut n = dev_node()?;
    let mut last_head = 0;
    for cycle in 0..cycles {
        let cycle_seed = base_seed.wrapping_add(cycle);
        let mut rng = StdRng::seed_from_u64(cycle_seed);
        let kill_after = Duration::from_millis(rng.gen_range(150..1200));
        let rpc = n.node.rpc()?;
        let first_nonce = rpc.nonce(DEV_ADDRESS, "latest")?;
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let (url, stop) = (n.node.http_url().to_string(), stop.clone());
            thread::spawn(move || load(url, first_nonce, stop))
        };
        thread::sleep(kill_after);
        match how {
            Stop::Kill => n.node.kill()?,
            Stop::Term => {
                let status = n.node.terminate()?;
                assert!(
                    status.success(),
                    "SIGTERM under load: exit {status:?}\n{}",
                    n.node.log_tail(30)
                );
            }
        }
        stop.store(true, Ordering::Relaxed);
        let accepted = sender.join().map_err(|_| eyre::eyre!("load thread panicked"))??;
        eprintln!(
            "cycle {cycle}: seed {cycle_seed}, {how:?} after {kill_after:?}, {accepted} transactions accepted"
        );

        n.node.restart()?;
        let rpc = n.node.rpc()?;
        let head = rpc.block_number()?;
        assert!(head >= last_head, "head went back from {last_head} to {head}");
        let (ledger, state_root) = walk_chain(&rpc, head)?;
        assert!(
            ledger.dev_nonce >= first_nonce,
            "mined transactions were lost: nonce {} < {first_nonce}",
            ledger.dev_nonce
        );
        assert!(
            ledger.dev_nonce <= first_nonce + accepted,
            "more transactions mined than were sent"
        );
        check_head_state(&rpc, head, &ledger, state_root)?;
        eprintln!(
            "cycle {cycle}: restarted at head {head} with {} transactions mined in all",
            ledger.dev_nonce
        );

        // The chain goes on: the next nonce mines on top of the head.
        let next = ledger.dev_nonce;
        assert_eq!(rpc.nonce(DEV_ADDRESS, "pending")?, next, "pool after restart");
        let receipt = rpc.send_and_wait(&Wallet::dev()?.transfer(
            next,
            recipient(next),
            U256::from(next + 1),
        )?)?;
        assert!(quantity(&receipt["blockNumber"])? > head);
        assert_eq!(rpc.nonce(DEV_ADDRESS, "latest")?, next + 1);
        last_head = rpc.block_number()?;
    }
    assert!(last_head > cycles, "the load never produced blocks");
    Ok(())
}
