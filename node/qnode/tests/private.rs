//! A dev qnode with a real transaction manager (in-process qtm, real HTTP): a private
//! transaction whose payload went through the TM executes on the node's private state.

use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolConstructor};
use qrs_contracts::{bindings::SimpleStorage, simple_storage};
use qrs_node::{NodeConfig, dev_address, launch};
use qrs_ptm::{PtmClient, PtmConfig, SendRequest};
use qrs_qtm::RunningNode;
use serde_json::{Value, json};

struct Tm {
    node: RunningNode,
    key: String,
    _dir: tempfile::TempDir,
}

impl Tm {
    fn url(&self, app: &str) -> String {
        self.node
            .servers
            .iter()
            .find(|s| format!("{:?}", s.app).eq_ignore_ascii_case(app))
            .map(|s| s.url.clone())
            .unwrap_or_else(|| panic!("no {app} server"))
    }
}

async fn start_tm(peers: &[String]) -> Tm {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("tm");
    let key = qrs_enclave::generate_key_files(&prefix, None).unwrap().to_base64();
    let config = json!({
        "useWhiteList": false,
        "jdbc": {"url": format!("jdbc:sqlite:{}/db.sqlite", dir.path().display()), "username": "", "password": ""},
        "peer": peers.iter().map(|p| json!({"url": p})).collect::<Vec<_>>(),
        "keys": {"passwords": [], "keyData": [{
            "privateKeyPath": format!("{}.key", prefix.display()),
            "publicKeyPath": format!("{}.pub", prefix.display()),
        }]},
        "serverConfigs": [
            {"app": "Q2T", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"},
            {"app": "P2P", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST",
             "properties": {"partyInfoInterval": "200"}},
        ],
    });
    let node = qrs_qtm::start(&config.to_string()).await.unwrap();
    Tm { node, key, _dir: dir }
}

async fn rpc(client: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply: Value = client.post(url).json(&body).send().await.unwrap().json().await.unwrap();
    assert!(reply.get("error").is_none(), "{method}: {reply}");
    reply["result"].clone()
}

/// `/send` from A to B, retried until A has learnt B's key through PartyInfo (at most 20 s).
async fn send_when_peered(client: &PtmClient, request: &SendRequest) -> qrs_ptm::SendResponse {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match client.send(request).await {
            Ok(r) => return r,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("send never succeeded: {e}"),
        }
    }
}

/// A GoQuorum private transaction: legacy, Homestead signature, `v` 37/38, data = TM hash.
fn sign_private(key: &PrivateKeySigner, nonce: u64, to: TxKind, hash: &[u8]) -> Bytes {
    let mut tx = TxLegacy {
        chain_id: None,
        nonce,
        gas_price: 0,
        gas_limit: 3_000_000,
        to,
        value: U256::ZERO,
        input: Bytes::copy_from_slice(hash),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    tx.chain_id = Some(1); // v = 37/38
    Bytes::from(TxEnvelope::Legacy(tx.into_signed(sig)).encoded_2718())
}

async fn receipt(client: &reqwest::Client, url: &str, hash: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = rpc(client, url, "eth_getTransactionReceipt", json!([hash])).await;
        if !r.is_null() {
            return r;
        }
        assert!(Instant::now() < deadline, "no receipt for {hash}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn private_deploy_through_the_tm_executes_privately() {
    let tm_b = start_tm(&[]).await;
    let tm_a = start_tm(&[tm_b.url("P2P")]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::dev_test(dir.path().to_path_buf());
    let ptm = PtmConfig::http(&tm_a.url("Q2T")).unwrap();
    config.ptm = Some(ptm.clone());
    let node = launch(config).await.unwrap();
    let url = format!("http://{}", node.http_addr.unwrap());
    let http = reqwest::Client::new();

    // the payload (SimpleStorage(47) init code) goes to the TM, privateFor B
    let init = SimpleStorage::constructorCall { initVal: U256::from(47u64) }.abi_encode();
    let payload = simple_storage().deploy_data(&init).to_vec();
    let tm = PtmClient::connect(&ptm).await.unwrap();
    let sent = send_when_peered(
        &tm,
        &SendRequest { payload, to: vec![tm_b.key.clone()], ..Default::default() },
    )
    .await;

    let key = PrivateKeySigner::from_bytes(&qrs_node::DEV_KEY).unwrap();
    assert_eq!(key.address(), dev_address());
    let raw = sign_private(&key, 0, TxKind::Create, &sent.key.0);
    let hash = rpc(&http, &url, "eth_sendRawTransaction", json!([raw])).await;
    let r = receipt(&http, &url, &hash).await;
    let contract = dev_address().create(0);
    assert_eq!(r["status"], "0x1", "{r}");
    assert_eq!(r["gasUsed"], "0x0", "{r}");
    assert_eq!(r["contractAddress"].as_str().unwrap().parse::<Address>().unwrap(), contract);
    let logs = r["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "the constructor's private log: {r}");
    assert_eq!(logs[0]["address"].as_str().unwrap().parse::<Address>().unwrap(), contract);

    // the transaction itself stays the public form: v 0x25/0x26 and the 64-byte hash as input
    let tx = rpc(&http, &url, "eth_getTransactionByHash", json!([hash])).await;
    assert!(matches!(tx["v"].as_str(), Some("0x25" | "0x26")), "{tx}");
    assert_eq!(tx["input"], format!("0x{}", hex::encode(sent.key.0)));

    // private-first reads
    let code = rpc(&http, &url, "eth_getCode", json!([contract, "latest"])).await;
    assert_eq!(code, format!("0x{}", hex::encode(&simple_storage().deployed_bytecode)));
    let slot = rpc(&http, &url, "eth_getStorageAt", json!([contract, "0x0", "latest"])).await;
    assert_eq!(
        U256::from_str_radix(slot.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
        U256::from(47u64)
    );
    let call = json!({"to": contract, "data": Bytes::from(SimpleStorage::getCall {}.abi_encode())});
    let out = rpc(&http, &url, "eth_call", json!([call, "latest"])).await;
    let out = hex::decode(out.as_str().unwrap()).unwrap();
    assert_eq!(SimpleStorage::getCall::abi_decode_returns(&out).unwrap(), U256::from(47u64));
    let logs =
        rpc(&http, &url, "eth_getLogs", json!([{"fromBlock": "0x0", "address": contract}])).await;
    assert_eq!(logs.as_array().map(Vec::len), Some(1), "private log in eth_getLogs: {logs}");
    assert_eq!(logs[0]["transactionHash"], hash);
    let root = rpc(&http, &url, "debug_privateStateRoot", json!(["latest"])).await;
    assert_ne!(root, format!("{:#x}", qrs_storage_empty_root()));

    node.stop().await.unwrap();
}

fn qrs_storage_empty_root() -> alloy_primitives::B256 {
    alloy_primitives::b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_tm_that_is_down_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::dev_test(dir.path().to_path_buf());
    // a port nothing listens on
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    config.ptm = Some(PtmConfig::http(&format!("http://{free}")).unwrap());
    let Err(err) = launch(config).await else { panic!("start must fail") };
    let text = format!("{err:#}");
    assert!(text.contains("private transaction manager at http://127.0.0.1"), "{text}");
}
