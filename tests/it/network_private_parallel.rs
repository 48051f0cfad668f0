//! Issue 5's concurrency acceptance on the 4-node QBFT network with a qtm per member: 200 private
//! transactions from one account, explicit nonces, sent in parallel through member1 privateFor
//! member3, all land in nonce order, and both parties end with the last value while the
//! non-party member2 sees nothing.

use std::time::Duration;

use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use qrs_contracts::bindings::SimpleStorage;
use qrs_e2e::{
    Consensus, TestNet,
    private::{PrivateSigner, ThirdParty, send_raw_private_params},
    rpc::Rpc,
};
use serde_json::{Value, json};

const N: u64 = 200;
/// Concurrent senders (N is a multiple, so every lane sends as many).
const LANES: usize = 20;

fn position(receipt: &Value) -> eyre::Result<(u64, u64)> {
    let q = |k: &str| qrs_e2e::rpc::quantity(&receipt[k]);
    Ok((q("blockNumber")?, q("transactionIndex")?))
}

#[test]
fn network_private_two_hundred_parallel_sends_from_one_account_land_in_nonce_order()
-> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_full(consensus, 4, 4, 3)?;
    net.wait_for_height(1, Duration::from_secs(30))?;
    let (m1, m3) = (&net.tms[0], &net.tms[2]);
    let (from, to) = (m1.public_key.clone(), vec![m3.public_key.clone()]);
    let tp = ThirdParty::new(&m1.third_party)?;
    let signer = PrivateSigner::from_key(B256::repeat_byte(0x51))?;
    let rpc1 = net.rpc(0)?;

    let init = SimpleStorage::constructorCall { initVal: U256::ZERO }.abi_encode();
    let code = qrs_contracts::simple_storage().deploy_data(&init);
    let raw = signer.sign(0, TxKind::Create, &tp.store_raw(&code, &from)?, 500_000)?;
    let deploy: B256 =
        rpc1.req("eth_sendRawPrivateTransaction", send_raw_private_params(&raw, &to))?;
    let receipt = rpc1.wait_receipt(deploy, Duration::from_secs(60))?;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let contract: Address = signer.address().create(0);

    // payloads stored and transactions signed first, then sent
    let mut raws = Vec::new();
    for nonce in 1..=N {
        let set = SimpleStorage::setCall { x: U256::from(nonce) }.abi_encode();
        let hash = tp.store_raw(&set, &from)?;
        raws.push((nonce, signer.sign(nonce, TxKind::Call(contract), &hash, 100_000)?));
    }
    let url = net.node(0).http_url().to_string();
    // 20 lanes send at once, round by round (a barrier after each send), so the nonces in flight
    // are never more than 20 apart. member1 would hold any order (the sender is local there, so
    // its queue is not capped), but the other validators get them by gossip, where geth's
    // per-account queue (64) applies; within 64 of each other they all stay in every pool.
    let lanes: Vec<Vec<(u64, alloy_primitives::Bytes)>> =
        (0..LANES).map(|lane| raws.iter().skip(lane).step_by(LANES).cloned().collect()).collect();
    let barrier = std::sync::Barrier::new(LANES);
    let mut sent: Vec<(u64, B256)> = std::thread::scope(|s| {
        let workers: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                let (url, to, barrier) = (url.clone(), to.clone(), &barrier);
                s.spawn(move || -> eyre::Result<Vec<(u64, B256)>> {
                    let rpc = Rpc::new(&url);
                    let mut out = Vec::new();
                    let mut failure = None;
                    for (nonce, raw) in &lane {
                        // every lane reaches every barrier, even after a failure
                        if let (Ok(rpc), None) = (&rpc, &failure) {
                            let params = send_raw_private_params(raw, &to);
                            match rpc.req("eth_sendRawPrivateTransaction", params) {
                                Ok(hash) => out.push((*nonce, hash)),
                                Err(e) => failure = Some(e.wrap_err(format!("nonce {nonce}"))),
                            }
                        }
                        barrier.wait();
                    }
                    rpc?;
                    failure.map_or(Ok(out), Err)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| eyre::eyre!("a sender panicked"))?)
            .collect::<eyre::Result<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect())
    })?;
    sent.sort();
    let mut last = (0, 0);
    for (nonce, hash) in &sent {
        let r = rpc1.wait_receipt(*hash, Duration::from_secs(120))?;
        assert_eq!(r["status"], "0x1", "nonce {nonce}: {r}");
        let here = position(&r)?;
        assert!(here > last, "nonce {nonce} at {here:?}, not after {last:?}");
        last = here;
    }
    // both parties hold the last value; the non-party has no contract state
    let call = json!([{ "to": contract, "data": format!("0x{}", alloy_primitives::hex::encode(SimpleStorage::getCall {}.abi_encode())) }, "latest"]);
    let expected = format!("0x{:064x}", N);
    for party in [0, 2] {
        let rpc = net.rpc(party)?;
        let value = qrs_e2e::network::wait_for(
            Duration::from_secs(30),
            "a party at the last value",
            || rpc.req::<String>("eth_call", call.clone()).ok().filter(|v| *v == expected),
        )?;
        assert_eq!(value, expected, "member{}", party + 1);
    }
    let outsider: String = net.rpc(1)?.req("eth_call", call)?;
    assert_eq!(outsider, "0x", "member2 is not a party");
    net.assert_no_fork()?;
    Ok(())
}
