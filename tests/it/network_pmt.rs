//! Privacy marker transactions end to end (`--privacymarker.enable`, `privacyPrecompileBlock`
//! 0): the web3js-quorum flow of `network_private` on a 4-node QBFT network with a qtm per
//! member, plus a node-signed private deploy as a PMT and GoQuorum's three PMT RPCs
//! (`tests/js/private.test.cjs` with `QRS_PMT=1`); and the start-up refusal without
//! `privacyPrecompileBlock`.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use base64::{Engine, engine::general_purpose::STANDARD};
use qrs_e2e::{Consensus, TestNet, binary::qnode_bin, network::wait_for, private::base64};

use serde_json::{Value, json};

use crate::network_private::run_private_js;

const PRECOMPILE: &str = "0x000000000000000000000000000000000000007a";

const QUICKSTART_QBFT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/goquorum-quickstart/genesis/qbft-standard-genesis.json"
);

#[test]
fn network_pmt_web3js_quorum_flow_and_pmt_rpcs() -> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_with_args(
        consensus,
        4,
        4,
        3,
        |g| g["config"]["privacyPrecompileBlock"] = 0.into(),
        &["--privacymarker.enable".to_string()],
    )?;
    let out = run_private_js(&mut net, true)?;
    // the PMT-only test ran (it is skipped without QRS_PMT=1)
    let pmt_line = out
        .lines()
        .find(|l| {
            (l.starts_with("ok ") || l.starts_with("not ok "))
                && l.contains("privacy marker transactions: node-signed private deploy")
        })
        .unwrap_or_default();
    assert!(
        pmt_line.starts_with("ok ") && !pmt_line.contains("# SKIP") && out.contains("# skipped 0"),
        "the PMT test must run and pass: {pmt_line:?}\n{out}"
    );

    // the node without a TM: the PMTs' public receipts, and GoQuorum's answers to the PMT RPCs
    let head = qrs_e2e::rpc::quantity(&net.rpc(0)?.req::<Value>("eth_blockNumber", json!([]))?)?;
    net.wait_for_height(head, std::time::Duration::from_secs(30))?;
    let rpc = net.rpc(3)?;
    let mut pmts = Vec::new();
    for n in 1..=head {
        let block: Value = rpc.req("eth_getBlockByNumber", json!([format!("{n:#x}"), true]))?;
        for tx in block["transactions"].as_array().into_iter().flatten() {
            if tx["to"] == PRECOMPILE {
                pmts.push(tx["hash"].clone());
            }
        }
    }
    assert_eq!(pmts.len(), 4, "set (web3), deploy, set (personal_), external PMT: {pmts:?}");
    for hash in &pmts {
        let receipt: Value = rpc.req("eth_getTransactionReceipt", json!([hash]))?;
        assert_eq!(receipt["status"], "0x1");
        assert_eq!(receipt["isPrivacyMarkerTransaction"], true);
        assert_eq!(receipt["logs"], json!([]));
        let err = rpc.call("eth_getPrivateTransactionReceipt", json!([hash])).unwrap_err();
        assert_eq!(
            err.code_message().map(|(_, m)| m),
            Some("private transaction not found for this participant")
        );
        let err = rpc.call("eth_getPrivateTransactionByHash", json!([hash])).unwrap_err();
        assert_eq!(
            err.code_message().map(|(_, m)| m),
            Some("PrivateTransactionManager is not enabled")
        );
    }
    refuses_a_marker_whose_inner_transaction_the_pool_would_refuse(&mut net)
}

/// GoQuorum's `validateTx` of a PMT on a party: the inner transaction (fetched from the TM)
/// must pass the pool's checks, so a PMT whose inner transaction carries ether is refused with
/// the pool's error, and nothing is added.
fn refuses_a_marker_whose_inner_transaction_the_pool_would_refuse(
    net: &mut TestNet,
) -> eyre::Result<()> {
    let signer = PrivateKeySigner::random();
    let mut inner = TxLegacy {
        chain_id: None,
        nonce: 0,
        gas_price: 0,
        gas_limit: 100_000,
        to: TxKind::Call(Address::repeat_byte(9)),
        value: U256::from(1),
        input: Bytes::from(vec![7u8; 64]),
    };
    let sig = signer.sign_hash_sync(&inner.signature_hash())?;
    // a private transaction's v is 37/38: encoded as if its chain id were 1
    inner.chain_id = Some(1);
    let inner = TxEnvelope::Legacy(inner.into_signed(sig));
    let payload = qrs_evm::pmt::encode_tx_json(&inner);
    let (member1, member3) = (&net.tms[0], &net.tms[2]);
    let sent: Value = reqwest::blocking::Client::new()
        .post(format!("{}/send", member1.q2t))
        .json(&json!({"payload": base64(&payload), "from": member1.public_key, "to": [member3.public_key]}))
        .send()?
        .error_for_status()?
        .json()?;
    let tm_hash = STANDARD.decode(sent["key"].as_str().unwrap_or_default())?;
    let rpc = net.rpc(0)?;
    let chain_id = qrs_e2e::rpc::quantity(&rpc.req::<Value>("eth_chainId", json!([]))?)?;
    let marker = TxLegacy {
        chain_id: Some(chain_id),
        nonce: 0,
        gas_price: 0,
        gas_limit: 100_000,
        to: TxKind::Call(qrs_evm::pmt::PRIVACY_PRECOMPILE),
        value: U256::ZERO,
        input: Bytes::from(tm_hash),
    };
    let sig = signer.sign_hash_sync(&marker.signature_hash())?;
    let raw = TxEnvelope::Legacy(marker.into_signed(sig)).encoded_2718();
    let err = rpc
        .call("eth_sendRawTransaction", json!([format!("0x{}", hex::encode(&raw))]))
        .expect_err("a PMT whose inner transaction carries ether");
    assert_eq!(
        err.code_message().map(|(_, m)| m),
        Some("ether value is not supported for private transactions")
    );
    let pool: Value = rpc.req("txpool_status", json!([]))?;
    assert_eq!(pool["pending"], "0x0", "nothing was added: {pool}");
    // The same PMT through member2, not a party (its TM answers 404, so its pool takes it): the
    // parties check it again when it arrives by gossip, and refuse it.
    let hash = net.rpc(1)?.send_raw(&raw).map_err(|e| eyre::eyre!("member2: {e:?}"))?;
    for party in [0, 2] {
        wait_for(Duration::from_secs(30), "a party to refuse the gossiped PMT", || {
            let log = net.node(party).log_tail(100_000);
            log.lines()
                .any(|l| {
                    l.contains("peer transaction refused")
                        && l.contains(&format!("{hash}"))
                        && l.contains("ether value is not supported for private transactions")
                })
                .then_some(())
        })?;
    }
    Ok(())
}

#[test]
fn network_pmt_flag_needs_privacy_precompile_block() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    // the GoQuorum quickstart's QBFT genesis (read in place): no privacyPrecompileBlock
    let path = std::path::Path::new(QUICKSTART_QBFT);
    let genesis: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    assert!(genesis["config"].get("privacyPrecompileBlock").is_none());
    let datadir = dir.path().join("node");
    let init = qrs_e2e::process::run_init(&datadir, path)?;
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let mut child = Command::new(qnode_bin()?)
        .arg("--datadir")
        .arg(&datadir)
        .args(["--privacymarker.enable", "--port", "0", "--nodiscover"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            child.kill()?;
            let out = child.wait_with_output()?;
            panic!(
                "qnode kept running without privacyPrecompileBlock:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output()?;
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "qnode started without privacyPrecompileBlock:\n{text}");
    assert!(
        text.contains(
            "Privacy marker transactions require privacyPrecompileBlock to be set in genesis.json"
        ),
        "GoQuorum's message: {text}"
    );
    Ok(())
}
