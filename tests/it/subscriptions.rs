//! `eth_subscribe` over WebSocket: `newHeads`, `logs` with an address filter,
//! `newPendingTransactions`.

use std::{collections::HashSet, time::Duration};

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent};
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT},
    rpc_params,
    ws_client::{WsClient, WsClientBuilder},
};
use qrs_contracts::bindings::SimpleStorage;
use qrs_e2e::{DEV_ADDRESS, Wallet, rpc::quantity, verify::check_header_hash};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::common::{DevNode, deploy, dev_node};

/// How long to wait for one notification.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to watch for notifications that must not come.
const QUIET_PERIOD: Duration = Duration::from_millis(600);

struct Ws {
    rt: Runtime,
    client: WsClient,
}

impl Ws {
    fn connect(n: &DevNode) -> eyre::Result<Self> {
        let rt =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let url = n.node.ws_url()?.to_string();
        let client = rt.block_on(WsClientBuilder::default().build(url))?;
        Ok(Self { rt, client })
    }

    fn subscribe(
        &self,
        params: jsonrpsee::core::params::ArrayParams,
    ) -> eyre::Result<Subscription<Value>> {
        Ok(self.rt.block_on(self.client.subscribe("eth_subscribe", params, "eth_unsubscribe"))?)
    }

    /// The next notification, or an error after [`NOTIFY_TIMEOUT`].
    fn next(&self, sub: &mut Subscription<Value>) -> eyre::Result<Value> {
        match self.rt.block_on(async { tokio::time::timeout(NOTIFY_TIMEOUT, sub.next()).await }) {
            Ok(Some(v)) => Ok(v?),
            Ok(None) => Err(eyre::eyre!("subscription closed")),
            Err(_) => Err(eyre::eyre!("no notification within {NOTIFY_TIMEOUT:?}")),
        }
    }

    /// Asserts nothing more arrives for [`QUIET_PERIOD`].
    fn assert_quiet(&self, sub: &mut Subscription<Value>) {
        let extra =
            self.rt.block_on(async { tokio::time::timeout(QUIET_PERIOD, sub.next()).await });
        assert!(extra.is_err(), "unexpected notification: {extra:?}");
    }
}

#[test]
fn new_heads_delivers_every_block() -> eyre::Result<()> {
    let n = dev_node()?;
    let ws = Ws::connect(&n)?;
    let mut sub = ws.subscribe(rpc_params!["newHeads"])?;
    let w = Wallet::dev()?;
    let mut blocks = Vec::new();
    for nonce in 0..3 {
        let r = n.rpc.send_and_wait(&w.transfer(
            nonce,
            Address::with_last_byte(0x77),
            U256::from(nonce + 1),
        )?)?;
        blocks.push(quantity(&r["blockNumber"])?);
    }
    assert_eq!(blocks, [1, 2, 3], "one block per transaction in instant mode");
    for number in blocks {
        let head = ws.next(&mut sub)?;
        assert_eq!(quantity(&head["number"])?, number, "{head}");
        let served = n.rpc.block(number, false)?;
        assert_eq!(head["hash"], served["hash"], "{head}");
        assert_eq!(head["parentHash"], served["parentHash"]);
        assert_eq!(head["stateRoot"], served["stateRoot"]);
        check_header_hash(&head)?;
    }
    ws.assert_quiet(&mut sub);
    Ok(())
}

#[test]
fn logs_with_address_filter_delivers_exactly_the_matching_logs() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let simple = qrs_contracts::simple_storage();
    let init = |v: u64| {
        simple.deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(v) }.abi_encode())
    };
    let (a, _) = deploy(&n.rpc, &w, 0, init(1))?;
    let (b, _) = deploy(&n.rpc, &w, 1, init(2))?;
    let ws = Ws::connect(&n)?;
    let mut sub = ws.subscribe(rpc_params!["logs", json!({ "address": a })])?;

    let set = |x: u64| SimpleStorage::setCall { x: U256::from(x) }.abi_encode();
    let mut sent_to_a = Vec::new();
    let mut nonce = 2;
    for (to, x) in [(a, 10), (b, 20), (a, 30), (b, 40), (b, 50), (a, 60)] {
        let h = n.rpc.send_raw(&w.call(nonce, to, set(x))?)?;
        if to == a {
            sent_to_a.push((h, x));
        }
        nonce += 1;
    }
    let last = n.rpc.wait_receipt(
        n.rpc.send_raw(&w.call(nonce, b, set(70))?)?,
        qrs_e2e::rpc::RECEIPT_TIMEOUT,
    )?;
    let expected: Vec<Value> = n.rpc.req(
        "eth_getLogs",
        json!([{ "fromBlock": "0x3", "toBlock": last["blockNumber"], "address": a }]),
    )?;
    assert_eq!(expected.len(), sent_to_a.len());
    for ((hash, x), want) in sent_to_a.iter().zip(&expected) {
        let got = ws.next(&mut sub)?;
        for key in [
            "address",
            "topics",
            "data",
            "blockNumber",
            "blockHash",
            "transactionHash",
            "transactionIndex",
            "logIndex",
        ] {
            assert_eq!(got[key], want[key], "{key}: {got} vs eth_getLogs {want}");
        }
        assert_eq!(serde_json::from_value::<B256>(got["transactionHash"].clone())?, *hash);
        assert_eq!(serde_json::from_value::<Address>(got["address"].clone())?, a);
        assert_eq!(got["topics"], json!([SimpleStorage::stored::SIGNATURE_HASH]));
        let data: alloy_primitives::Bytes = serde_json::from_value(got["data"].clone())?;
        let event = SimpleStorage::stored::abi_decode_data(&data)?;
        assert_eq!(event, (DEV_ADDRESS, U256::from(*x)));
    }
    ws.assert_quiet(&mut sub);
    Ok(())
}

#[test]
fn new_pending_transactions_delivers_hashes() -> eyre::Result<()> {
    let n = dev_node_period()?;
    let ws = Ws::connect(&n)?;
    let mut sub = ws.subscribe(rpc_params!["newPendingTransactions"])?;
    let w = Wallet::dev()?;
    let mut sent = HashSet::new();
    for nonce in 0..3 {
        sent.insert(n.rpc.send_raw(&w.transfer(
            nonce,
            Address::with_last_byte(0x55),
            U256::from(1),
        )?)?);
    }
    let mut got = HashSet::new();
    for _ in 0..sent.len() {
        let v = ws.next(&mut sub)?;
        got.insert(serde_json::from_value::<B256>(v.clone()).map_err(|e| eyre::eyre!("{e}: {v}"))?);
    }
    assert_eq!(got, sent);
    ws.assert_quiet(&mut sub);
    Ok(())
}

/// A dev node that makes blocks every second, so transactions stay pending for a while.
fn dev_node_period() -> eyre::Result<DevNode> {
    crate::common::dev_node_with(|o| o.arg("--dev.period").arg("1"))
}
