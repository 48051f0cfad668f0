//! What non-parties learn of a private transaction, and a TM's recovery by resend, on a 4-node
//! QBFT network where every member has its own `qtm`.
//!
//! member1 deploys SimpleStorage privately for member3 and then calls `set` with a distinctive
//! 32-byte marker (the constructor and `set` both emit `stored(sender, value)`, so the marker is
//! also in the private event). member2 and member4 (non-parties, both validators) are inspected
//! over RPC, in their data directories (raw MDBX bytes), their TM's SQLite database and both
//! processes' logs; the same searches must find the marker on member1 and member3, so a broken
//! search cannot pass.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy_primitives::{B256, Bytes, TxKind, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use eyre::eyre;
use qrs_contracts::bindings::SimpleStorage;
use qrs_e2e::{
    Consensus, DEV_KEY, TestNet,
    network::wait_for,
    private::{PrivateSigner, ThirdParty, base64, send_raw_private_params},
};
use serde_json::{Value, json};

/// Value stored by the private deploy (also in its event).
const INIT_MARKER: [u8; 32] = *b"qrs-leak-marker-init-value-00001";
/// Value stored by the private `set` (also in its event and its plaintext payload).
const SET_MARKER: [u8; 32] = *b"qrs-leak-marker-set-value-000002";

/// Members (node indexes) and their roles.
const SENDER: usize = 0;
const PARTY: usize = 2;
const NON_PARTIES: [usize; 2] = [1, 3];

/// A private deploy and `set` from member1 for member3.
struct PrivateFlow {
    contract: alloy_primitives::Address,
    /// `(public tx hash, TM hash, plaintext payload)` of the deploy and the set.
    txs: Vec<(B256, Vec<u8>, Vec<u8>)>,
}

fn send_private(
    net: &TestNet,
    signer: &PrivateSigner,
    nonce: u64,
    to: TxKind,
    payload: &[u8],
) -> eyre::Result<(B256, Vec<u8>)> {
    let tm = &net.tms[SENDER];
    let hash = ThirdParty::new(&tm.third_party)?.store_raw(payload, &tm.public_key)?;
    let raw = signer.sign(nonce, to, &hash, 3_000_000)?;
    let rpc = net.rpc(SENDER)?;
    let private_for = vec![net.tms[PARTY].public_key.clone()];
    let tx: B256 =
        rpc.req("eth_sendRawPrivateTransaction", send_raw_private_params(&raw, &private_for))?;
    let receipt = rpc.wait_receipt(tx, Duration::from_secs(60))?;
    if receipt["status"] != json!("0x1") {
        return Err(eyre!("private transaction failed on the sender: {receipt}"));
    }
    Ok((tx, hash))
}

fn run_private_flow(net: &TestNet) -> eyre::Result<PrivateFlow> {
    let signer = PrivateSigner::from_key(DEV_KEY)?;
    let init = U256::from_be_bytes(INIT_MARKER);
    let code = qrs_contracts::simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: init }.abi_encode())
        .to_vec();
    let (deploy_tx, deploy_hash) = send_private(net, &signer, 0, TxKind::Create, &code)?;
    let contract = signer.address().create(0);
    let set = SimpleStorage::setCall { x: U256::from_be_bytes(SET_MARKER) }.abi_encode();
    let (set_tx, set_hash) = send_private(net, &signer, 1, TxKind::Call(contract), &set)?;
    Ok(PrivateFlow { contract, txs: vec![(deploy_tx, deploy_hash, code), (set_tx, set_hash, set)] })
}

/// Every file under `dir` (recursively) whose name passes `keep`.
fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> eyre::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files_under(&path, keep)?);
        } else if keep(&path) {
            out.push(path);
        }
    }
    Ok(out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else { return false };
    let mut from = 0;
    while let Some(p) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + p;
        if haystack.len() - at < needle.len() {
            return false;
        }
        if &haystack[at + 1..at + needle.len()] == rest {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The files among `files` that contain any of `needles`, with the needle's label.
fn files_containing(files: &[PathBuf], needles: &[(&str, Vec<u8>)]) -> eyre::Result<Vec<String>> {
    let mut hits = Vec::new();
    for f in files {
        let bytes = std::fs::read(f)?;
        for (label, needle) in needles {
            if contains(&bytes, needle) {
                hits.push(format!("{} contains {label}", f.display()));
            }
        }
    }
    Ok(hits)
}

/// The byte patterns the marker can take in storage, logs and payloads: raw, hex, and the
/// base64 of the `set` payload (how TMs write payloads in JSON).
fn marker_needles(flow: &PrivateFlow) -> Vec<(&'static str, Vec<u8>)> {
    let set_payload = &flow.txs[1].2;
    vec![
        ("the init marker", INIT_MARKER.to_vec()),
        ("the set marker", SET_MARKER.to_vec()),
        ("the init marker in hex", hex::encode(INIT_MARKER).into_bytes()),
        ("the set marker in hex", hex::encode(SET_MARKER).into_bytes()),
        ("the set payload in base64", base64(set_payload).into_bytes()),
    ]
}

/// Files of a TM's database (SQLite and its WAL / journal).
fn tm_db_files(dir: &Path) -> eyre::Result<Vec<PathBuf>> {
    files_under(dir, &|p| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("db.sqlite"))
    })
}

fn node_log(net: &mut TestNet, i: usize) -> PathBuf {
    net.node(i).options().log_path()
}

/// What node `i` serves about the flow over RPC: code, `get()`, slot 0, the payloads, the
/// receipts' logs and `eth_getLogs`.
struct Served {
    code: String,
    get: String,
    slot0: U256,
    payloads: Vec<String>,
    receipt_logs: usize,
    get_logs: usize,
    receipt_statuses: Vec<Value>,
}

fn served(net: &TestNet, i: usize, flow: &PrivateFlow) -> eyre::Result<Served> {
    let rpc = net.rpc(i)?;
    let code: String = rpc.req("eth_getCode", json!([flow.contract, "latest"]))?;
    let get_data = Bytes::from(SimpleStorage::getCall {}.abi_encode());
    let get: String =
        rpc.req("eth_call", json!([{"to": flow.contract, "data": get_data}, "latest"]))?;
    let slot0: U256 = rpc.req("eth_getStorageAt", json!([flow.contract, "0x0", "latest"]))?;
    let mut payloads = Vec::new();
    let mut receipt_logs = 0;
    let mut receipt_statuses = Vec::new();
    for (tx, tm_hash, _) in &flow.txs {
        let public: Value = rpc.req("eth_getTransactionByHash", json!([tx]))?;
        // every node sees the same public transaction: the TM hash as input, v 37/38
        assert_eq!(public["input"], json!(format!("0x{}", hex::encode(tm_hash))), "node {i}");
        assert!(public["v"] == json!("0x25") || public["v"] == json!("0x26"), "node {i}: {public}");
        payloads.push(rpc.req("eth_getQuorumPayload", json!([public["input"]]))?);
        let receipt = rpc.receipt(*tx)?;
        receipt_logs += receipt["logs"].as_array().map(Vec::len).unwrap_or(0);
        receipt_statuses.push(receipt["status"].clone());
    }
    let logs: Vec<Value> =
        rpc.req("eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "latest"}]))?;
    Ok(Served { code, get, slot0, payloads, receipt_logs, get_logs: logs.len(), receipt_statuses })
}

#[test]
fn network_private_nothing_leaks_to_non_parties() -> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_full(consensus, 4, 4, 4)?;
    net.wait_for_height(1, Duration::from_secs(30))?;
    let flow = run_private_flow(&net)?;
    // every node has imported the set's block
    let rpc = net.rpc(SENDER)?;
    let set_block = rpc.receipt(flow.txs[1].0)?["blockNumber"].clone();
    let set_block = qrs_e2e::rpc::quantity(&set_block)?;
    net.wait_for_height(set_block + 1, Duration::from_secs(30))?;

    // --- RPC: the parties serve the private state, payloads and logs; non-parties nothing
    let set_word = format!("0x{}", hex::encode(SET_MARKER));
    for i in [SENDER, PARTY] {
        let s = served(&net, i, &flow)?;
        assert!(s.code.len() > 2, "party {i} has the contract code");
        assert_eq!(s.get, set_word, "party {i} reads the marker");
        assert_eq!(s.slot0, U256::from_be_bytes(SET_MARKER), "party {i} storage");
        for (p, (_, _, plain)) in s.payloads.iter().zip(&flow.txs) {
            assert_eq!(p, &format!("0x{}", hex::encode(plain)), "party {i} payload");
        }
        assert_eq!(s.receipt_logs, 2, "party {i}: the deploy's and the set's private events");
        assert_eq!(s.get_logs, 2, "party {i}: eth_getLogs finds both private events");
    }
    for i in NON_PARTIES {
        let s = served(&net, i, &flow)?;
        assert_eq!(s.code, "0x", "non-party {i}: eth_getCode");
        assert_eq!(s.get, "0x", "non-party {i}: eth_call");
        assert_eq!(s.slot0, U256::ZERO, "non-party {i}: eth_getStorageAt");
        assert_eq!(s.payloads, vec!["0x".to_string(); 2], "non-party {i}: eth_getQuorumPayload");
        assert_eq!(s.receipt_logs, 0, "non-party {i}: receipts carry no private log");
        assert_eq!(s.get_logs, 0, "non-party {i}: eth_getLogs finds no private log");
        // GoQuorum: a non-party's receipt of a private transaction is the public one, status 1
        assert_eq!(s.receipt_statuses, vec![json!("0x1"); 2], "non-party {i}");
    }

    // --- TM databases: the TM hashes are rows in the parties' TMs only; no TM stores plaintext
    let hash_needles: Vec<(&str, Vec<u8>)> = vec![
        ("the deploy's TM hash", flow.txs[0].1.clone()),
        ("the set's TM hash", flow.txs[1].1.clone()),
    ];
    let needles = marker_needles(&flow);
    for i in [SENDER, PARTY] {
        let files = tm_db_files(&net.tms[i].dir)?;
        let hits = files_containing(&files, &hash_needles)?;
        for (label, _) in &hash_needles {
            assert!(
                hits.iter().any(|h| h.ends_with(label)),
                "party {i}'s TM database holds {label} (else the search is broken): {hits:?} in {files:?}"
            );
        }
    }
    for i in NON_PARTIES {
        let files = tm_db_files(&net.tms[i].dir)?;
        assert!(!files.is_empty(), "non-party {i}'s TM has a database");
        let hits = files_containing(&files, &hash_needles)?;
        assert!(hits.is_empty(), "non-party {i}'s TM stores the payloads: {hits:?}");
    }
    for i in 0..4 {
        let hits = files_containing(&tm_db_files(&net.tms[i].dir)?, &needles)?;
        assert!(hits.is_empty(), "TM {i} stores plaintext: {hits:?}");
    }

    // --- node data directories (raw MDBX bytes): private state and receipts on parties only
    for i in [SENDER, PARTY] {
        let hits = files_containing(&files_under(&net.datadir(i), &|_| true)?, &needles[..2])?;
        assert!(
            hits.iter().any(|h| h.ends_with("the init marker"))
                && hits.iter().any(|h| h.ends_with("the set marker")),
            "party {i}'s data directory holds both markers (else the search is broken): {hits:?}"
        );
    }
    for i in NON_PARTIES {
        let hits = files_containing(&files_under(&net.datadir(i), &|_| true)?, &needles)?;
        assert!(hits.is_empty(), "non-party {i}'s data directory leaks: {hits:?}");
    }

    // --- logs of the non-parties' nodes and TMs
    for i in NON_PARTIES {
        let logs = vec![node_log(&mut net, i), net.tms[i].dir.join("qtm.log")];
        for log in &logs {
            assert!(log.exists(), "{} exists", log.display());
        }
        let hits = files_containing(&logs, &needles)?;
        assert!(hits.is_empty(), "non-party {i}'s logs leak: {hits:?}");
    }
    net.assert_no_fork()?;
    Ok(())
}

/// member3's TM loses its database; member1's TM resends everything for member3's key
/// (Tessera's `POST /resend` type ALL); member3's node, restarted on an empty data directory,
/// re-executes the chain and has the private state again.
#[test]
fn network_private_tm_recovers_by_resend() -> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_full(consensus, 4, 4, 3)?;
    net.wait_for_height(1, Duration::from_secs(30))?;
    let flow = run_private_flow(&net)?;
    let set_hex = format!("0x{}", hex::encode(&flow.txs[1].1));
    let set_payload = format!("0x{}", hex::encode(&flow.txs[1].2));
    let set_word = format!("0x{}", hex::encode(SET_MARKER));
    let get_data = Bytes::from(SimpleStorage::getCall {}.abi_encode());
    let call = json!([{"to": flow.contract, "data": get_data}, "latest"]);
    let party = net.rpc(PARTY)?;
    wait_for(Duration::from_secs(30), "member3 to read the marker", || {
        (party.req::<String>("eth_call", call.clone()).ok()? == set_word).then_some(())
    })?;
    assert_eq!(party.req::<String>("eth_getQuorumPayload", json!([set_hex]))?, set_payload);

    // member3's TM loses its database and restarts with the same keys
    let tm = &mut net.tms[PARTY];
    tm.kill()?;
    let lost = tm_db_files(&tm.dir)?;
    assert!(!lost.is_empty(), "member3's TM had a database");
    for f in lost {
        std::fs::remove_file(f)?;
    }
    tm.restart()?;
    assert_eq!(
        party.req::<String>("eth_getQuorumPayload", json!([set_hex]))?,
        "0x",
        "the payload is gone with the database"
    );

    // member1's TM resends every transaction for member3's key
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/resend", net.tms[SENDER].p2p))
        .json(&json!({"type": "ALL", "publicKey": net.tms[PARTY].public_key}))
        .send()?;
    assert!(res.status().is_success(), "POST /resend: {} {}", res.status(), res.text()?);
    wait_for(Duration::from_secs(30), "the resent payload on member3", || {
        (party.req::<String>("eth_getQuorumPayload", json!([set_hex.clone()])).ok()? == set_payload)
            .then_some(())
    })?;
    let deploy_hex = format!("0x{}", hex::encode(&flow.txs[0].1));
    assert_eq!(
        party.req::<String>("eth_getQuorumPayload", json!([deploy_hex]))?,
        format!("0x{}", hex::encode(&flow.txs[0].2)),
        "the deploy's payload is back too"
    );

    // member3's node starts over on an empty data directory: it re-executes the private
    // transactions with the payloads its TM got back
    let head = net.head(SENDER)?.0;
    net.restart_fresh(PARTY)?;
    net.wait_for_height(head, Duration::from_secs(60))?;
    let party = net.rpc(PARTY)?;
    wait_for(Duration::from_secs(30), "the re-executed private state on member3", || {
        (party.req::<String>("eth_call", call.clone()).ok()? == set_word).then_some(())
    })?;
    let receipt = party.receipt(flow.txs[1].0)?;
    assert_eq!(receipt["logs"].as_array().map(Vec::len), Some(1), "private event: {receipt}");
    // the non-party still has nothing
    assert_eq!(net.rpc(1)?.req::<String>("eth_call", call)?, "0x");
    net.assert_no_fork()?;
    Ok(())
}
