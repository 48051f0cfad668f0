//! `istanbul_*` over a one-validator QBFT chain driven by the real engine: GoQuorum's result
//! shapes (goquorum.md §2.4) and the propose/discard/candidates round trip.

use std::time::Duration;

use alloy_primitives::{Address, Bytes};
use qrs_chain::Chain;
use qrs_chainspec::ChainSpec;
use qrs_consensus::{
    ConsensusEngine, EngineDeps,
    qbft::{QbftEngine, QbftOptions},
};
use qrs_network::{NetworkConfig, NodeKey};
use qrs_qbft::QbftExtra;
use qrs_rpc::{NodeInfo, RpcContext, build_module};
use serde_json::{Value, json};

fn genesis(validator: Address) -> ChainSpec {
    let extra = QbftExtra {
        vanity: Bytes::from(vec![0u8; 32]),
        validators: vec![validator],
        ..Default::default()
    };
    let json = json!({
        "config": {
            "chainId": 1337, "isQuorum": true, "homesteadBlock": 0, "eip150Block": 0,
            "eip155Block": 0, "eip158Block": 0, "byzantiumBlock": 0, "constantinopleBlock": 0,
            "petersburgBlock": 0, "istanbulBlock": 0,
            "qbft": { "epochLength": 30000, "blockPeriodSeconds": 1, "requestTimeoutSeconds": 1 }
        },
        "gasLimit": "0x1c9c380", "difficulty": "0x1",
        "mixHash": qrs_qbft::ISTANBUL_DIGEST.to_string(),
        "extraData": extra.to_extra_bytes().to_string(),
        "alloc": {}
    });
    ChainSpec::from_json(&json.to_string()).unwrap()
}

type Module = jsonrpsee::RpcModule<RpcContext>;

async fn call(m: &Module, method: &str, params: Value) -> Value {
    let req = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let (resp, _) = m.raw_json_request(&req.to_string(), 1).await.unwrap();
    serde_json::from_str(resp.get()).unwrap()
}

async fn ok(m: &Module, method: &str, params: Value) -> Value {
    let resp = call(m, method, params).await;
    resp.get("result").cloned().unwrap_or_else(|| panic!("{method}: {resp}"))
}

async fn wait_for_block(chain: &Chain, number: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while chain.head().header.number < number {
        assert!(tokio::time::Instant::now() < deadline, "no block {number}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istanbul_namespace_shapes() {
    let key = NodeKey::from_bytes(&[0x21; 32]).unwrap();
    let me = key.address();
    let me_hex = format!("{me:#x}");
    let tmp = tempfile::tempdir().unwrap();
    let chain = Chain::open(&tmp.path().join("chain"), genesis(me), Default::default()).unwrap();
    let (network, _) =
        qrs_network::spawn(key.clone(), NetworkConfig::new("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
    let deps = EngineDeps {
        chain: chain.clone(),
        network: network.clone(),
        node_key: key,
        datadir: tmp.path().to_path_buf(),
    };
    let engine = QbftEngine::new(QbftOptions::default(), deps).unwrap();
    let mut ctx = RpcContext::new(chain.clone(), None, NodeInfo::default());
    ctx.qbft = Some(engine.handle());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Box::new(engine).run(chain.clone(), rx));
    let (m, _) = build_module(ctx, &["istanbul".to_string()]).unwrap();
    wait_for_block(&chain, 2).await;

    assert_eq!(ok(&m, "istanbul_nodeAddress", json!([])).await, json!(me_hex));
    assert_eq!(ok(&m, "istanbul_getValidators", json!([])).await, json!([me_hex]));
    assert_eq!(ok(&m, "istanbul_getValidators", json!(["0x1"])).await, json!([me_hex]));
    assert_eq!(ok(&m, "istanbul_isValidator", json!(["latest"])).await, json!(true));

    let b1 = format!("{:#x}", chain.reader().unwrap().canonical_hash(1).unwrap().unwrap());
    let signers = ok(&m, "istanbul_getSignersFromBlock", json!(["0x1"])).await;
    assert_eq!(
        signers,
        json!({ "Number": 1, "Hash": b1, "Author": me_hex, "Committers": [me_hex] })
    );
    assert_eq!(ok(&m, "istanbul_getSignersFromBlockByHash", json!([b1])).await, signers);
    assert_eq!(ok(&m, "istanbul_getValidatorsAtHash", json!([b1])).await, json!([me_hex]));

    let snap = ok(&m, "istanbul_getSnapshot", json!(["0x1"])).await;
    assert_eq!(
        snap,
        json!({
            "epoch": 30000, "number": 1, "hash": b1, "votes": [], "tally": {},
            "validators": [me_hex], "policy": 0
        })
    );
    assert_eq!(ok(&m, "istanbul_getSnapshotAtHash", json!([b1])).await, snap);

    let status = ok(&m, "istanbul_status", json!(["0x1", "0x2"])).await;
    assert_eq!(status["numBlocks"], json!(1), "{status}");
    assert_eq!(status["sealerActivity"][&me_hex], json!(2), "{status}");
    let status = ok(&m, "istanbul_status", json!([])).await;
    assert!(status["sealerActivity"][&me_hex].as_u64().unwrap() >= 2, "{status}");

    // GoQuorum's errors.
    let err = call(&m, "istanbul_getValidators", json!(["0xffff"])).await;
    assert_eq!(err["error"]["message"], json!("unknown block"), "{err}");
    let err = call(&m, "istanbul_status", json!(["0x1"])).await;
    assert_eq!(err["error"]["message"], json!("pass the end block number"), "{err}");
    let err = call(&m, "istanbul_status", json!(["0x2", "0x1"])).await;
    assert_eq!(
        err["error"]["message"],
        json!("start block number should be less than end block number"),
        "{err}"
    );

    // Votes: queued, listed, written into our next block. With one validator the vote passes
    // at once (1 > 1/2); the chain then waits for the new (absent) validator, as GoQuorum would.
    let candidate = format!("{:#x}", Address::repeat_byte(0x77));
    assert_eq!(ok(&m, "istanbul_propose", json!([candidate, true])).await, Value::Null);
    assert_eq!(ok(&m, "istanbul_candidates", json!([])).await, json!({ candidate.clone(): true }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let validators = ok(&m, "istanbul_getValidators", json!([])).await;
        if validators.as_array().unwrap().contains(&json!(candidate)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "vote never applied: {validators}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let head = chain.head().header.number;
    let header = chain.reader().unwrap().header(head).unwrap().unwrap();
    let vote = QbftExtra::decode_extra(&header.extra_data).unwrap().vote.unwrap();
    assert_eq!(format!("{:#x}", vote.recipient), candidate);
    assert_eq!(ok(&m, "istanbul_discard", json!([candidate])).await, Value::Null);
    assert_eq!(ok(&m, "istanbul_candidates", json!([])).await, json!({}));

    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    network.shutdown();
}
