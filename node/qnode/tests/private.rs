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
    let node = qrs_qtm::start(&tm_config(dir.path(), peers, 0, 0)).await.unwrap();
    Tm { node, key, _dir: dir }
}

/// A qtm config over the key pair `<dir>/tm.{key,pub}` and `<dir>/db.sqlite` (ports 0 = any).
fn tm_config(dir: &std::path::Path, peers: &[String], q2t: u16, p2p: u16) -> String {
    let prefix = dir.join("tm");
    json!({
        "useWhiteList": false,
        "jdbc": {"url": format!("jdbc:sqlite:{}/db.sqlite", dir.display()), "username": "", "password": ""},
        "peer": peers.iter().map(|p| json!({"url": p})).collect::<Vec<_>>(),
        "keys": {"passwords": [], "keyData": [{
            "privateKeyPath": format!("{}.key", prefix.display()),
            "publicKeyPath": format!("{}.pub", prefix.display()),
        }]},
        "serverConfigs": [
            {"app": "Q2T", "enabled": true, "serverAddress": format!("http://127.0.0.1:{q2t}"), "communicationType": "REST"},
            {"app": "P2P", "enabled": true, "serverAddress": format!("http://127.0.0.1:{p2p}"), "communicationType": "REST",
             "properties": {"partyInfoInterval": "200"}},
        ],
    })
    .to_string()
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).unwrap()
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

/// SimpleStorage's `get()` of `contract` as `url` sees it (private state first).
async fn stored_value(client: &reqwest::Client, url: &str, contract: Address) -> U256 {
    let get = json!({"to": contract, "data": Bytes::from(SimpleStorage::getCall {}.abi_encode())});
    let out = rpc(client, url, "eth_call", json!([get, "latest"])).await;
    let out = hex::decode(out.as_str().unwrap()).unwrap();
    SimpleStorage::getCall::abi_decode_returns(&out).unwrap()
}

/// A receipt's (block number, transaction index).
fn position(receipt: &Value) -> (u64, u64) {
    let at = |k: &str| {
        u64::from_str_radix(receipt[k].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    (at("blockNumber"), at("transactionIndex"))
}

/// A dev node whose TM is `tm_a`; `tm_b` (peered to A) is the other party.
struct DevNode {
    tm_b: Tm,
    tm_a: Tm,
    _dir: tempfile::TempDir,
    node: qrs_node::NodeHandle,
    url: String,
    /// A client of A's Q2T API, like the node's own.
    tm: PtmClient,
}

async fn dev_node_with_tms() -> DevNode {
    let tm_b = start_tm(&[]).await;
    let tm_a = start_tm(&[tm_b.url("P2P")]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::dev_test(dir.path().to_path_buf());
    let ptm = PtmConfig::http(&tm_a.url("Q2T")).unwrap();
    config.ptm = Some(ptm.clone());
    let node = launch(config).await.unwrap();
    let url = node.http_url().unwrap();
    let tm = PtmClient::connect(&ptm).await.unwrap();
    DevNode { tm_b, tm_a, _dir: dir, node, url, tm }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn private_deploy_through_the_tm_executes_privately() {
    let DevNode { tm_b, tm_a: _tm_a, _dir, node, url, tm } = dev_node_with_tms().await;
    let http = reqwest::Client::new();

    // the payload (SimpleStorage(47) init code) goes to the TM, privateFor B
    let init = SimpleStorage::constructorCall { initVal: U256::from(47u64) }.abi_encode();
    let payload = simple_storage().deploy_data(&init).to_vec();
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
    assert_eq!(stored_value(&http, &url, contract).await, U256::from(47u64));
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

/// Polls until `accept` holds for `method(params)` on `url` (at most 60 s).
async fn until(
    client: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = rpc(client, url, method, params.clone()).await;
        if accept(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{method} on {url}: still {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn party_and_non_party_followers_share_the_public_state_only() {
    use qrs_node::{ConsensusChoice, NetworkOptions};
    let tm_b = start_tm(&[]).await;
    let tm_a = start_tm(&[tm_b.url("P2P")]).await;
    let dir = tempfile::tempdir().unwrap();
    let ptm_a = PtmConfig::http(&tm_a.url("Q2T")).unwrap();

    let mut cfg = NodeConfig::dev_test(dir.path().join("miner"));
    cfg.network = Some(NetworkOptions::local_test());
    cfg.ptm = Some(ptm_a.clone());
    let miner = launch(cfg).await.unwrap();
    let follower = |name: &str, ptm: Option<PtmConfig>| {
        let mut cfg = NodeConfig::dev_test(dir.path().join(name));
        cfg.consensus = ConsensusChoice::None;
        let mut net = NetworkOptions::local_test();
        net.extra_static_nodes = vec![miner.enode().unwrap()];
        cfg.network = Some(net);
        cfg.ptm = ptm;
        cfg
    };
    let party =
        launch(follower("party", Some(PtmConfig::http(&tm_b.url("Q2T")).unwrap()))).await.unwrap();
    let outsider = launch(follower("outsider", None)).await.unwrap();
    let http = reqwest::Client::new();
    let (m, p, o) =
        (miner.http_url().unwrap(), party.http_url().unwrap(), outsider.http_url().unwrap());
    for u in [&p, &o] {
        until(&http, u, "net_peerCount", json!([]), |v| v != "0x0").await;
    }

    // a private SimpleStorage(47) from the miner's account, privateFor B
    let tm = PtmClient::connect(&ptm_a).await.unwrap();
    let init = SimpleStorage::constructorCall { initVal: U256::from(47u64) }.abi_encode();
    let request = SendRequest {
        payload: simple_storage().deploy_data(&init).to_vec(),
        to: vec![tm_b.key.clone()],
        ..Default::default()
    };
    let deploy = send_when_peered(&tm, &request).await;
    let key = PrivateKeySigner::from_bytes(&qrs_node::DEV_KEY).unwrap();
    let raw = sign_private(&key, 0, TxKind::Create, &deploy.key.0);
    let hash = rpc(&http, &m, "eth_sendRawTransaction", json!([raw])).await;
    let contract = dev_address().create(0);
    let receipts: Vec<Value> = {
        let mut out = Vec::new();
        for u in [&m, &p, &o] {
            out.push(
                until(&http, u, "eth_getTransactionReceipt", json!([hash]), |v| !v.is_null()).await,
            );
        }
        out
    };
    for r in &receipts {
        assert_eq!(r["status"], "0x1", "{r}");
        assert_eq!(r["gasUsed"], "0x0", "{r}");
        assert_eq!(r["blockHash"], receipts[0]["blockHash"]);
    }
    assert_eq!(receipts[0]["logs"].as_array().map(Vec::len), Some(1), "sender's private log");
    assert_eq!(receipts[1]["logs"].as_array().map(Vec::len), Some(1), "party's private log");
    assert_eq!(receipts[2]["logs"].as_array().map(Vec::len), Some(0), "non-party sees none");

    // B sets 123; the party reads it, the outsider sees an empty account
    let set = SimpleStorage::setCall { x: U256::from(123u64) }.abi_encode();
    let sent = send_when_peered(&tm, &SendRequest { payload: set, ..request.clone() }).await;
    let raw = sign_private(&key, 1, TxKind::Call(contract), &sent.key.0);
    let hash = rpc(&http, &m, "eth_sendRawTransaction", json!([raw])).await;
    for u in [&m, &p, &o] {
        until(&http, u, "eth_getTransactionReceipt", json!([hash]), |v| !v.is_null()).await;
    }
    for u in [&m, &p] {
        assert_eq!(stored_value(&http, u, contract).await, U256::from(123u64));
        let code = rpc(&http, u, "eth_getCode", json!([contract, "latest"])).await;
        assert_eq!(code, format!("0x{}", hex::encode(&simple_storage().deployed_bytecode)));
    }
    let get = json!({"to": contract, "data": Bytes::from(SimpleStorage::getCall {}.abi_encode())});
    assert_eq!(rpc(&http, &o, "eth_call", json!([get, "latest"])).await, "0x");
    assert_eq!(rpc(&http, &o, "eth_getCode", json!([contract, "latest"])).await, "0x");

    // one public state
    let heads: Vec<Value> = {
        let mut out = Vec::new();
        for u in [&m, &p, &o] {
            out.push(rpc(&http, u, "eth_getBlockByNumber", json!(["latest", false])).await);
        }
        out
    };
    for h in &heads {
        assert_eq!((&h["hash"], &h["stateRoot"]), (&heads[0]["hash"], &heads[0]["stateRoot"]));
    }
    let roots: Vec<Value> = {
        let mut out = Vec::new();
        for u in [&m, &p, &o] {
            out.push(rpc(&http, u, "debug_privateStateRoot", json!(["latest"])).await);
        }
        out
    };
    assert_eq!(roots[0], roots[1], "sender and party hold the same private state");
    assert_ne!(roots[0], roots[2]);

    for n in [outsider, party, miner] {
        n.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_party_whose_tm_is_down_waits_and_catches_up_with_the_right_private_state() {
    use qrs_node::{ConsensusChoice, NetworkOptions};
    let tm_b = start_tm(&[]).await;
    let tm_a = start_tm(&[tm_b.url("P2P")]).await;
    let dir = tempfile::tempdir().unwrap();
    let ptm_a = PtmConfig::http(&tm_a.url("Q2T")).unwrap();
    let mut cfg = NodeConfig::dev_test(dir.path().join("miner"));
    cfg.network = Some(NetworkOptions::local_test());
    cfg.ptm = Some(ptm_a.clone());
    let miner = launch(cfg).await.unwrap();
    let follower = |name: &str, ptm: Option<PtmConfig>| {
        let mut cfg = NodeConfig::dev_test(dir.path().join(name));
        cfg.consensus = ConsensusChoice::None;
        let mut net = NetworkOptions::local_test();
        net.extra_static_nodes = vec![miner.enode().unwrap()];
        cfg.network = Some(net);
        cfg.ptm = ptm;
        cfg
    };
    let party =
        launch(follower("party", Some(PtmConfig::http(&tm_b.url("Q2T")).unwrap()))).await.unwrap();
    let outsider = launch(follower("outsider", None)).await.unwrap();
    let http = reqwest::Client::new();
    let (m, p, o) =
        (miner.http_url().unwrap(), party.http_url().unwrap(), outsider.http_url().unwrap());
    for u in [&p, &o] {
        until(&http, u, "net_peerCount", json!([]), |v| v != "0x0").await;
    }

    // B stores the payload, then B's TM goes down before the block exists
    let tm = PtmClient::connect(&ptm_a).await.unwrap();
    let init = SimpleStorage::constructorCall { initVal: U256::from(47u64) }.abi_encode();
    let request = SendRequest {
        payload: simple_storage().deploy_data(&init).to_vec(),
        to: vec![tm_b.key.clone()],
        ..Default::default()
    };
    let deploy = send_when_peered(&tm, &request).await;
    let (q2t, p2p) = (port_of(&tm_b.url("Q2T")), port_of(&tm_b.url("P2P")));
    let Tm { node: b_node, key: _, _dir: b_dir } = tm_b;
    drop(b_node);

    let key = PrivateKeySigner::from_bytes(&qrs_node::DEV_KEY).unwrap();
    let raw = sign_private(&key, 0, TxKind::Create, &deploy.key.0);
    let hash = rpc(&http, &m, "eth_sendRawTransaction", json!([raw])).await;
    let mined =
        until(&http, &o, "eth_getTransactionReceipt", json!([hash]), |v| !v.is_null()).await;
    let number = mined["blockNumber"].clone();
    // the party cannot import that block without its payload: it stays behind, no wrong state
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(rpc(&http, &p, "eth_getTransactionReceipt", json!([hash])).await, Value::Null);
    assert_eq!(rpc(&http, &p, "eth_blockNumber", json!([])).await, "0x0");

    // B's TM is back (same ports, same database); the next block makes the party catch up
    let _b_node = qrs_qtm::start(&tm_config(b_dir.path(), &[], q2t, p2p)).await.unwrap();
    let tx = json!([{ "from": dev_address(), "to": "0x0000000000000000000000000000000000000042", "value": "0x1" }]);
    rpc(&http, &m, "eth_sendTransaction", tx).await;
    let r = until(&http, &p, "eth_getTransactionReceipt", json!([hash]), |v| !v.is_null()).await;
    assert_eq!(r["blockNumber"], number);
    assert_eq!(r["logs"].as_array().map(Vec::len), Some(1), "party's private log: {r}");
    let contract = dev_address().create(0);
    assert_eq!(stored_value(&http, &p, contract).await, U256::from(47u64));
    let at = json!([number, false]);
    let hm = rpc(&http, &m, "eth_getBlockByNumber", at.clone()).await;
    let hp = rpc(&http, &p, "eth_getBlockByNumber", at).await;
    assert_eq!((&hm["hash"], &hm["stateRoot"]), (&hp["hash"], &hp["stateRoot"]));

    for n in [outsider, party, miner] {
        n.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_private_sets_sent_in_parallel_all_land_in_nonce_order() {
    const N: u64 = 200;
    let DevNode { tm_b, tm_a: _tm_a, _dir, node, url, tm } = dev_node_with_tms().await;
    let http = reqwest::Client::new();
    let key = PrivateKeySigner::from_bytes(&qrs_node::DEV_KEY).unwrap();

    let init = SimpleStorage::constructorCall { initVal: U256::ZERO }.abi_encode();
    let request = SendRequest {
        payload: simple_storage().deploy_data(&init).to_vec(),
        to: vec![tm_b.key.clone()],
        ..Default::default()
    };
    let deploy = send_when_peered(&tm, &request).await;
    let raw = sign_private(&key, 0, TxKind::Create, &deploy.key.0);
    let hash = rpc(&http, &url, "eth_sendRawTransaction", json!([raw])).await;
    receipt(&http, &url, &hash).await;
    let contract = dev_address().create(0);

    // payloads stored and transactions signed first, then all sent at once
    let mut raws = Vec::new();
    for i in 1..=N {
        let set = SimpleStorage::setCall { x: U256::from(i) }.abi_encode();
        let sent = tm.send(&SendRequest { payload: set, ..request.clone() }).await.unwrap();
        raws.push(sign_private(&key, i, TxKind::Call(contract), &sent.key.0));
    }
    let sends = raws.into_iter().map(|raw| {
        let (http, url) = (http.clone(), url.clone());
        tokio::spawn(async move { rpc(&http, &url, "eth_sendRawTransaction", json!([raw])).await })
    });
    let mut hashes = Vec::new();
    for s in sends {
        hashes.push(s.await.unwrap());
    }
    let mut last = (0u64, 0u64);
    for (i, h) in hashes.iter().enumerate() {
        let r = receipt(&http, &url, h).await;
        assert_eq!(r["status"], "0x1", "{r}");
        assert_eq!(r["logs"].as_array().map(Vec::len), Some(1), "{r}");
        assert!(position(&r) > last, "transaction {} out of nonce order", i + 1);
        last = position(&r);
    }
    assert_eq!(stored_value(&http, &url, contract).await, U256::from(N));
    node.stop().await.unwrap();
}

/// One JSON-RPC call that must fail: its error object.
async fn rpc_error(client: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply: Value = client.post(url).json(&body).send().await.unwrap().json().await.unwrap();
    reply.get("error").cloned().unwrap_or_else(|| panic!("{method} did not fail: {reply}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quorum_payload_extra_and_decrypt_quorum_payload_have_goquorums_shapes() {
    let DevNode { tm_b, tm_a, _dir, node, url, tm } = dev_node_with_tms().await;
    let http = reqwest::Client::new();
    let payload = b"a payload only the parties may read".to_vec();
    let send =
        SendRequest { payload: payload.clone(), to: vec![tm_b.key.clone()], ..Default::default() };
    let sent = send_when_peered(&tm, &send).await;

    // eth_getQuorumPayloadExtra: capitalised Go field names, ACMerkleRoot a 32-byte hash
    let digest = format!("0x{}", hex::encode(sent.key.0));
    let extra = rpc(&http, &url, "eth_getQuorumPayloadExtra", json!([digest])).await;
    assert_eq!(extra["Payload"], format!("0x{}", hex::encode(&payload)), "{extra}");
    assert_eq!(extra["IsSender"], true, "{extra}");
    let meta = &extra["ExtraMetaData"];
    assert_eq!(meta["ACMerkleRoot"], format!("0x{}", "0".repeat(64)), "{extra}");
    assert_eq!(meta["PrivacyFlag"], 0, "{extra}");
    assert_eq!(meta["Sender"], tm_a.key, "{extra}");
    assert_eq!(meta["ManagedParties"], json!([tm_a.key]), "{extra}");

    // eth_decryptQuorumPayload takes hex(JSON) of what /encodedpayload/create returns
    let created: Value = http
        .post(format!("{}/encodedpayload/create", tm_a.url("Q2T")))
        .json(&json!({"payload": qrs_ptm::base64_of(&payload), "to": [tm_b.key]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(created["cipherText"].is_string(), "{created}");
    let arg = format!("0x{}", hex::encode(created.to_string()));
    let decrypted = rpc(&http, &url, "eth_decryptQuorumPayload", json!([arg])).await;
    assert_eq!(decrypted["Payload"], format!("0x{}", hex::encode(&payload)), "{decrypted}");
    assert_eq!(decrypted["IsSender"], true, "{decrypted}");
    assert_eq!(decrypted["ExtraMetaData"]["PrivacyFlag"], 0, "{decrypted}");

    // bad input: GoQuorum's message for a short string, a decoding error otherwise
    let e = rpc_error(&http, &url, "eth_decryptQuorumPayload", json!(["0x"])).await;
    assert_eq!(e["message"], "Invalid payload hex", "{e}");
    let e = rpc_error(&http, &url, "eth_decryptQuorumPayload", json!(["0xzz12"])).await;
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    let not_json = format!("0x{}", hex::encode("not json"));
    let e = rpc_error(&http, &url, "eth_decryptQuorumPayload", json!([not_json])).await;
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    // a payload this TM holds no key for is the TM's error, not a panic or a wrong payload
    let mut foreign = created.clone();
    foreign["recipientKeys"] = json!([qrs_ptm::base64_of(&[7u8; 32])]);
    let arg = format!("0x{}", hex::encode(foreign.to_string()));
    let e = rpc_error(&http, &url, "eth_decryptQuorumPayload", json!([arg])).await;
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");

    node.stop().await.unwrap();
}

/// A JSON-RPC batch whose `eth_sendRawPrivateTransaction` entries the server runs concurrently,
/// mixed with other entries: the answers keep the batch's order and ids, and every transaction
/// lands with its private state, even though the batch lists the nonces backwards (they reach
/// the pool out of order).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_of_raw_private_sends_answers_in_order_and_every_one_lands() {
    const SENDS: u64 = 20;
    let DevNode { tm_b, tm_a: _tm_a, _dir, node, url, tm } = dev_node_with_tms().await;
    let http = reqwest::Client::new();
    let to_b = SendRequest {
        payload: b"peered".to_vec(),
        to: vec![tm_b.key.clone()],
        ..Default::default()
    };
    send_when_peered(&tm, &to_b).await;

    let key = PrivateKeySigner::from_bytes(&qrs_node::DEV_KEY).unwrap();
    let mut entries =
        vec![json!({"jsonrpc": "2.0", "id": "first", "method": "eth_blockNumber", "params": []})];
    let mut expected_hashes = Vec::new();
    for nonce in (0..SENDS).rev() {
        let init = SimpleStorage::constructorCall { initVal: U256::from(100 + nonce) }.abi_encode();
        let stored = tm.store_raw(&simple_storage().deploy_data(&init), None).await.unwrap();
        let raw = sign_private(&key, nonce, TxKind::Create, &stored.0);
        expected_hashes.push(json!(format!("{:#x}", alloy_primitives::keccak256(&raw))));
        entries
            .push(json!({"jsonrpc": "2.0", "id": nonce, "method": "eth_sendRawPrivateTransaction",
            "params": [raw, {"privateFor": [tm_b.key]}]}));
    }
    entries.push(json!({"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []})); // notification
    entries.push(json!({"not": "a request"}));
    entries.push(json!({"jsonrpc": "2.0", "id": "last", "method": "eth_chainId", "params": []}));

    let answer: Value = http.post(&url).json(&entries).send().await.unwrap().json().await.unwrap();
    let answer = answer.as_array().unwrap_or_else(|| panic!("not a batch answer: {answer}"));
    let ids: Vec<Value> = answer.iter().map(|a| a["id"].clone()).collect();
    let mut expected_ids = vec![json!("first")];
    expected_ids.extend((0..SENDS).rev().map(|n| json!(n)));
    expected_ids.extend([Value::Null, json!("last")]);
    assert_eq!(ids, expected_ids, "answers out of order: {answer:?}");
    for (a, hash) in answer[1..=SENDS as usize].iter().zip(&expected_hashes) {
        assert_eq!(&a["result"], hash, "{a}");
    }
    assert!(answer[SENDS as usize + 1]["error"].is_object(), "{}", answer[SENDS as usize + 1]);
    assert!(answer[SENDS as usize + 2]["result"].is_string());

    // `expected_hashes` is in the batch's order: nonces backwards
    let mut last = (0u64, 0u64);
    for nonce in 0..SENDS {
        let r = receipt(&http, &url, &expected_hashes[(SENDS - 1 - nonce) as usize]).await;
        assert_eq!(r["status"], "0x1", "{r}");
        assert!(nonce == 0 || position(&r) > last, "nonce {nonce} included before its predecessor");
        last = position(&r);
        let contract = dev_address().create(nonce);
        assert_eq!(stored_value(&http, &url, contract).await, U256::from(100 + nonce));
    }
    node.stop().await.unwrap();
}

/// Issue 5's bad input: each gets GoQuorum's error and nothing is stored half-way (no pooled
/// transaction, no new block).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_private_input_gets_goquorums_errors_and_stores_nothing() {
    let DevNode { tm_b, tm_a: _tm_a, _dir, node, url, tm: _tm } = dev_node_with_tms().await;
    let http = reqwest::Client::new();
    let from = format!("{:#x}", dev_address());
    let init = SimpleStorage::constructorCall { initVal: U256::from(1u64) }.abi_encode();
    let data = format!("0x{}", hex::encode(simple_storage().deploy_data(&init)));
    let head = rpc(&http, &url, "eth_blockNumber", json!([])).await;
    let message = |e: &Value| e["message"].as_str().unwrap_or_default().to_owned();

    // value > 0 on a private transaction
    let tx = json!([{"from": from, "data": data, "value": "0x1", "privateFor": [tm_b.key]}]);
    let e = rpc_error(&http, &url, "eth_sendTransaction", tx).await;
    assert_eq!(message(&e), "ether value is not supported for private transactions");
    // a public raw transaction to eth_sendRawPrivateTransaction
    let key = PrivateKeySigner::from_bytes(&qrs_node::DEV_KEY).unwrap();
    let public = TxLegacy {
        chain_id: Some(1337),
        nonce: 0,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(1)),
        value: U256::ZERO,
        input: Bytes::new(),
    };
    let sig = key.sign_hash_sync(&public.signature_hash()).unwrap();
    let raw =
        format!("0x{}", hex::encode(TxEnvelope::Legacy(public.into_signed(sig)).encoded_2718()));
    let params = json!([raw, {"privateFor": [tm_b.key]}]);
    let e = rpc_error(&http, &url, "eth_sendRawPrivateTransaction", params).await;
    assert_eq!(message(&e), "transaction is not private");
    // a privacy flag out of range
    let tx = json!([{"from": from, "data": data, "privateFor": [tm_b.key], "privacyFlag": 4}]);
    let e = rpc_error(&http, &url, "eth_sendTransaction", tx).await;
    assert_eq!(message(&e), "invalid privacy flag");
    // a recipient key no TM knows
    let unknown = qrs_ptm::base64_of(&[9u8; 32]);
    let tx = json!([{"from": from, "data": data, "privateFor": [unknown]}]);
    let e = rpc_error(&http, &url, "eth_sendTransaction", tx).await;
    assert!(message(&e).contains("Recipient not found for key"), "{e}");

    assert_eq!(rpc(&http, &url, "txpool_status", json!([])).await["pending"], "0x0");
    assert_eq!(rpc(&http, &url, "eth_blockNumber", json!([])).await, head);
    node.stop().await.unwrap();

    // a node without a TM asked for private work
    let dir = tempfile::tempdir().unwrap();
    let node = launch(NodeConfig::dev_test(dir.path().to_path_buf())).await.unwrap();
    let url = node.http_url().unwrap();
    let tx = json!([{"from": from, "data": data, "privateFor": [tm_b.key]}]);
    let e = rpc_error(&http, &url, "eth_sendTransaction", tx).await;
    assert_eq!(message(&e), "private transaction manager is not in use");
    let private_raw = sign_private(&key, 0, TxKind::Create, &[7u8; 64]);
    let params = json!([private_raw, {"privateFor": [tm_b.key]}]);
    let e = rpc_error(&http, &url, "eth_sendRawPrivateTransaction", params).await;
    assert_eq!(message(&e), "private transaction manager is not in use");
    assert_eq!(rpc(&http, &url, "txpool_status", json!([])).await["pending"], "0x0");
    assert_eq!(rpc(&http, &url, "eth_blockNumber", json!([])).await, json!("0x0"));
    node.stop().await.unwrap();
}
