//! A clean stop (SIGTERM) and restart on the same data directory keeps everything.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent, SolValue};
use qrs_contracts::bindings::{QrsToken, SimpleStorage};
use qrs_e2e::{DEV_ADDRESS, Rpc, Wallet, rpc::RECEIPT_TIMEOUT};
use serde_json::{Value, json};

use crate::common::{deploy, dev_node, eth_call};

const TOKEN_SUPPLY: u64 = 1_000_000;
const ROUNDS: u64 = 5;

/// Everything a client can read that must survive a restart.
#[derive(Debug, PartialEq)]
struct Snapshot {
    head: u64,
    blocks: Vec<Value>,
    receipts: Vec<Value>,
    logs: Value,
    token_logs: Value,
    balances: Vec<U256>,
    storage: Vec<B256>,
    calls: Vec<Bytes>,
    codes: Vec<Bytes>,
}

struct Contracts {
    storage: Address,
    token: Address,
    recipients: Vec<Address>,
}

/// Slot of `balanceOf[owner]` in QrsToken (mapping at slot 1).
fn token_balance_slot(owner: Address) -> B256 {
    keccak256((owner.into_word(), U256::from(1)).abi_encode())
}

fn snapshot(rpc: &Rpc, c: &Contracts) -> eyre::Result<Snapshot> {
    let head = rpc.block_number()?;
    let mut blocks = Vec::new();
    let mut receipts = Vec::new();
    for n in 0..=head {
        let block = rpc.block(n, true)?;
        for tx in block["transactions"].as_array().into_iter().flatten() {
            let hash: B256 = serde_json::from_value(tx["hash"].clone())?;
            receipts.push(rpc.receipt(hash)?);
        }
        blocks.push(block);
    }
    let tag = format!("{head:#x}");
    let logs = rpc.req("eth_getLogs", json!([{ "fromBlock": "0x0", "toBlock": tag }]))?;
    let token_logs = rpc.req(
        "eth_getLogs",
        json!([{ "fromBlock": "earliest", "toBlock": "latest", "address": c.token,
                 "topics": [QrsToken::Transfer::SIGNATURE_HASH] }]),
    )?;
    let mut balances = vec![rpc.balance(DEV_ADDRESS, &tag)?];
    let mut storage = vec![rpc.req("eth_getStorageAt", json!([c.storage, "0x0", tag]))?];
    let mut calls = vec![
        eth_call(rpc, c.storage, &SimpleStorage::getCall {}.abi_encode(), &tag)?,
        eth_call(rpc, c.token, &QrsToken::totalSupplyCall {}.abi_encode(), &tag)?,
    ];
    for who in std::iter::once(DEV_ADDRESS).chain(c.recipients.iter().copied()) {
        balances.push(rpc.balance(who, &tag)?);
        storage.push(rpc.req("eth_getStorageAt", json!([c.token, token_balance_slot(who), tag]))?);
        calls.push(eth_call(
            rpc,
            c.token,
            &QrsToken::balanceOfCall { owner: who }.abi_encode(),
            &tag,
        )?);
    }
    let codes = vec![
        rpc.req("eth_getCode", json!([c.storage, tag]))?,
        rpc.req("eth_getCode", json!([c.token, tag]))?,
    ];
    Ok(Snapshot { head, blocks, receipts, logs, token_logs, balances, storage, calls, codes })
}

/// Checks the snapshot's content against what the transactions did (not only restart equality).
fn check_content(s: &Snapshot, c: &Contracts) -> eyre::Result<()> {
    let last_set = U256::from(100 + ROUNDS - 1);
    assert_eq!(s.storage[0], B256::from(last_set), "SimpleStorage slot 0");
    assert_eq!(SimpleStorage::getCall::abi_decode_returns(&s.calls[0])?, last_set);
    assert_eq!(
        QrsToken::totalSupplyCall::abi_decode_returns(&s.calls[1])?,
        U256::from(TOKEN_SUPPLY)
    );
    let sent: u64 = (1..=ROUNDS).map(|i| 10 * i).sum();
    let token_balance = |i: usize| QrsToken::balanceOfCall::abi_decode_returns(&s.calls[2 + i]);
    assert_eq!(token_balance(0)?, U256::from(TOKEN_SUPPLY - sent), "deployer's tokens");
    for (i, _) in c.recipients.iter().enumerate() {
        let expected = U256::from(10 * (i as u64 + 1));
        assert_eq!(token_balance(i + 1)?, expected, "recipient {i} tokens");
        assert_eq!(s.storage[i + 2], B256::from(expected), "recipient {i} balance slot");
        assert_eq!(s.balances[i + 2], U256::from(1000 + i as u64), "recipient {i} wei");
    }
    // 1 constructor `stored` + ROUNDS `stored`, 1 mint `Transfer` + ROUNDS `Transfer`.
    let logs = s.logs.as_array().ok_or_else(|| eyre::eyre!("eth_getLogs: {}", s.logs))?;
    assert_eq!(logs.len() as u64, 2 * (ROUNDS + 1), "{}", s.logs);
    let token_logs =
        s.token_logs.as_array().ok_or_else(|| eyre::eyre!("eth_getLogs: {}", s.token_logs))?;
    assert_eq!(token_logs.len() as u64, ROUNDS + 1);
    let receipt_logs: usize =
        s.receipts.iter().map(|r| r["logs"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(receipt_logs, logs.len(), "receipts and eth_getLogs disagree");
    assert!(s.receipts.iter().all(|r| r["status"] == json!("0x1")));
    assert_eq!(s.receipts.len() as u64, 2 + 3 * ROUNDS);
    assert!(s.codes.iter().all(|c| !c.is_empty()));
    Ok(())
}

#[test]
fn sigterm_restart_keeps_chain_state_and_goes_on() -> eyre::Result<()> {
    let mut n = dev_node()?;
    let rpc = &n.rpc;
    let w = Wallet::dev()?;
    let simple = qrs_contracts::simple_storage();
    let token = qrs_contracts::qrs_token();
    let (storage, _) = deploy(
        rpc,
        &w,
        0,
        simple.deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(5) }.abi_encode()),
    )?;
    let (token_addr, _) = deploy(
        rpc,
        &w,
        1,
        token.deploy_data(
            &QrsToken::constructorCall { initialSupply: U256::from(TOKEN_SUPPLY) }.abi_encode(),
        ),
    )?;
    let recipients: Vec<Address> =
        (1..=ROUNDS).map(|i| Address::with_last_byte(0x40 + i as u8)).collect();
    // Sent back to back so blocks hold several transactions each.
    let mut nonce = 2;
    let mut hashes = Vec::new();
    for (i, to) in recipients.iter().enumerate() {
        let i = i as u64;
        let set = SimpleStorage::setCall { x: U256::from(100 + i) }.abi_encode();
        let transfer =
            QrsToken::transferCall { to: *to, value: U256::from(10 * (i + 1)) }.abi_encode();
        for raw in [
            w.call(nonce, storage, set)?,
            w.call(nonce + 1, token_addr, transfer)?,
            w.transfer(nonce + 2, *to, U256::from(1000 + i))?,
        ] {
            hashes.push(rpc.send_raw(&raw)?);
        }
        nonce += 3;
    }
    for h in &hashes {
        let r = rpc.wait_receipt(*h, RECEIPT_TIMEOUT)?;
        assert_eq!(r["status"], json!("0x1"), "{r}");
    }
    let contracts = Contracts { storage, token: token_addr, recipients };
    let before = snapshot(rpc, &contracts)?;
    check_content(&before, &contracts)?;

    let status = n.node.terminate()?;
    assert!(status.success(), "qnode exit after SIGTERM: {status:?}\n{}", n.node.log_tail(20));
    n.node.restart()?;
    n.rpc = n.node.rpc()?;
    let after = snapshot(&n.rpc, &contracts)?;
    assert_eq!(after, before, "chain state differs after a SIGTERM restart");

    // New transactions still mine, on top of the old head, with the nonce going on.
    assert_eq!(n.rpc.nonce(DEV_ADDRESS, "pending")?, nonce);
    let set = SimpleStorage::setCall { x: U256::from(999) }.abi_encode();
    let receipt = n.rpc.send_and_wait(&w.call(nonce, storage, set)?)?;
    let number = qrs_e2e::rpc::quantity(&receipt["blockNumber"])?;
    assert_eq!(number, before.head + 1);
    assert_eq!(
        n.rpc.block(number, false)?["parentHash"],
        before.blocks[before.head as usize]["hash"]
    );
    let got = eth_call(&n.rpc, storage, &SimpleStorage::getCall {}.abi_encode(), "latest")?;
    assert_eq!(SimpleStorage::getCall::abi_decode_returns(&got)?, U256::from(999));
    assert_eq!(n.rpc.nonce(DEV_ADDRESS, "latest")?, nonce + 1);
    Ok(())
}
