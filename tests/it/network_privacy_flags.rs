//! Privacy enhancements end to end (GoQuorum flags 1-3) on a 4-node QBFT network where members
//! 1-3 each have their own `qtm`: party protection, mandatory recipients, private state
//! validation with the sender's simulation, `eth_getContractPrivacyMetadata`, and the refusal
//! on a chain without privacy enhancements.

use std::time::Duration;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use base64_engine::encode_b64;
use qrs_contracts::{bindings::SimpleStorage, simple_storage};
use qrs_e2e::{Consensus, DEV_ADDRESS, DEV_KEY, Rpc, TestNet};
use serde_json::{Value, json};

/// Standard base64 without a dependency (the test checks the node's encoding independently).
mod base64_engine {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub(super) fn encode_b64(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

const PASSWORD: &str = "pe";
const WAIT: Duration = Duration::from_secs(30);

fn deploy_data(init: u64) -> Bytes {
    simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(init) }.abi_encode())
}

fn set_data(x: u64) -> Bytes {
    SimpleStorage::setCall { x: U256::from(x) }.abi_encode().into()
}

/// `personal_sendTransaction` of a private transaction from `from` (imported on that node).
fn send(
    rpc: &Rpc,
    from: Address,
    to: Option<Address>,
    data: &Bytes,
    private: Value,
) -> Result<B256, String> {
    let mut args = json!({"from": from, "data": data, "gas": "0x2dc6c0"});
    if let Some(to) = to {
        args["to"] = json!(to);
    }
    for (k, v) in private.as_object().cloned().unwrap_or_default() {
        args[k] = v;
    }
    rpc.call("personal_sendTransaction", json!([args, PASSWORD]))
        .map_err(|e| e.code_message().map(|(_, m)| m.to_string()).unwrap_or(e.to_string()))
        .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
}

fn private_status(rpc: &Rpc, hash: B256) -> eyre::Result<(bool, Option<Address>)> {
    let receipt = rpc.wait_receipt(hash, WAIT)?;
    let ok = receipt["status"] == "0x1";
    let created = receipt["contractAddress"].as_str().map(|s| s.parse()).transpose()?;
    Ok((ok, created))
}

fn get(rpc: &Rpc, contract: Address) -> eyre::Result<U256> {
    let out: Bytes = rpc.req(
        "eth_call",
        json!([{"to": contract, "data": Bytes::from(SimpleStorage::getCall {}.abi_encode())}, "latest"]),
    )?;
    Ok(if out.is_empty() { U256::ZERO } else { U256::from_be_slice(&out) })
}

fn metadata(rpc: &Rpc, contract: Address) -> Result<Value, String> {
    rpc.call("eth_getContractPrivacyMetadata", json!([contract]))
        .map_err(|e| e.code_message().map(|(_, m)| m.to_string()).unwrap_or(e.to_string()))
}

/// The TM hash a private transaction carries, as base64.
fn tm_hash_b64(rpc: &Rpc, hash: B256) -> eyre::Result<String> {
    let tx: Value = rpc.req("eth_getTransactionByHash", json!([hash]))?;
    let input: Bytes = serde_json::from_value(tx["input"].clone())?;
    assert_eq!(input.len(), 64);
    Ok(encode_b64(&input))
}

/// The dev account's Homestead-signed private call with `v` 37/38 (as web3js-quorum does).
fn private_raw(nonce: u64, to: Address, input: Bytes) -> eyre::Result<Bytes> {
    use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_signer::SignerSync;
    let mut tx = TxLegacy {
        chain_id: None,
        nonce,
        gas_price: 0,
        gas_limit: 3_000_000,
        to: alloy_primitives::TxKind::Call(to),
        value: U256::ZERO,
        input,
    };
    let signer = alloy_signer_local::PrivateKeySigner::from_bytes(&DEV_KEY)?;
    let sig = signer.sign_hash_sync(&tx.signature_hash())?;
    // chain id 1 in the envelope encodes v = 35 + 2 + parity: GoQuorum's private marker
    tx.chain_id = Some(1);
    Ok(TxEnvelope::Legacy(tx.into_signed(sig)).encoded_2718().into())
}

fn import(rpc: &Rpc, key: &B256) -> eyre::Result<Address> {
    let a: String = rpc.req("personal_importRawKey", json!([hex::encode(key), PASSWORD]))?;
    Ok(a.parse()?)
}

fn enhanced_genesis(g: &mut Value) {
    g["config"]["privacyEnhancementsBlock"] = json!(0);
    for t in g["config"]["transitions"].as_array_mut().into_iter().flatten() {
        if t.get("privacyEnhancementsEnabled").is_some() {
            t["privacyEnhancementsEnabled"] = json!(true);
        }
    }
}

#[test]
fn network_privacy_flags_party_protection_mandatory_recipients_and_state_validation()
-> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_custom(consensus, 4, 4, 3, enhanced_genesis)?;
    net.wait_for_height(1, WAIT)?;
    let (r1, r2, r3) = (net.rpc(0)?, net.rpc(1)?, net.rpc(2)?);
    let (m1, m2, m3) = (
        net.tms[0].public_key.clone(),
        net.tms[1].public_key.clone(),
        net.tms[2].public_key.clone(),
    );
    assert_eq!(import(&r1, &DEV_KEY)?, DEV_ADDRESS);
    let other_key = B256::repeat_byte(0x42);
    let other = import(&r2, &other_key)?;
    let dev = DEV_ADDRESS;

    // ---- party protection: deploy privateFor member3, flag 1
    let deploy =
        send(&r1, dev, None, &deploy_data(47), json!({"privateFor": [m3], "privacyFlag": 1}))
            .map_err(|e| eyre::eyre!(e))?;
    let (ok, pp) = private_status(&r1, deploy)?;
    let pp = pp.expect("contract address");
    assert!(ok);
    net.wait_for_height(net.head(0)?.0 + 1, WAIT)?;
    let creation = tm_hash_b64(&r1, deploy)?;
    for rpc in [&r1, &r3] {
        assert_eq!(
            metadata(rpc, pp).map_err(|e| eyre::eyre!(e))?,
            json!({"creationTxHash": creation, "privacyFlag": 1}),
            "party's contract privacy metadata"
        );
    }
    // member2 is not party: an empty account without metadata
    let err = metadata(&r2, pp).expect_err("non-party");
    assert_eq!(err, format!("{}: no account extra data found", pp.to_checksum(None)));
    // a public address
    let public = Address::repeat_byte(0x77);
    assert_eq!(
        metadata(&r1, public).expect_err("public"),
        format!("{}: the provided address is not a private contract", hex::encode(public))
    );

    // set() with flag 1 works on both parties
    let set = send(&r1, dev, Some(pp), &set_data(5), json!({"privateFor": [m3], "privacyFlag": 1}))
        .map_err(|e| eyre::eyre!(e))?;
    assert!(private_status(&r1, set)?.0);
    net.wait_for_height(net.head(0)?.0 + 1, WAIT)?;
    assert_eq!(get(&r1, pp)?, U256::from(5u64));
    assert_eq!(get(&r3, pp)?, U256::from(5u64));
    assert_eq!(get(&r2, pp)?, U256::ZERO, "non-party sees nothing");
    // flag 0 on a party-protected contract: refused by the sender's simulation
    assert_eq!(
        send(&r1, dev, Some(pp), &set_data(6), json!({"privateFor": [m3], "privacyFlag": 0}))
            .expect_err("flag mismatch"),
        "sent privacy flag doesn't match all affected contract flags"
    );
    // member2 is not party to the creation: its node has no such contract
    assert_eq!(
        send(&r2, other, Some(pp), &set_data(7), json!({"privateFor": [m1, m3], "privacyFlag": 1}))
            .expect_err("non-party sender"),
        "contract not found. cannot transact"
    );

    // the raw path (eth_fillTransaction's /storeraw, external Homestead signature, v 37/38):
    // the node simulates the stored payload before /sendsignedtx
    let raw = |x: u64, flag: u64| -> eyre::Result<Result<B256, String>> {
        let filled: Value = r1.req(
            "eth_fillTransaction",
            json!([{"from": dev, "to": pp, "data": set_data(x), "gas": "0x2dc6c0", "privateFor": [m3]}]),
        )?;
        let input: Bytes = serde_json::from_value(filled["tx"]["input"].clone())?;
        let nonce = qrs_e2e::rpc::quantity(&filled["tx"]["nonce"])?;
        let raw = private_raw(nonce, pp, input)?;
        Ok(r1
            .call(
                "eth_sendRawPrivateTransaction",
                json!([raw, {"privateFor": [m3], "privacyFlag": flag}]),
            )
            .map_err(|e| e.code_message().map(|(_, m)| m.to_string()).unwrap_or(e.to_string()))
            .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string())))
    };
    assert_eq!(
        raw(20, 0)?.expect_err("raw flag mismatch"),
        "sent privacy flag doesn't match all affected contract flags"
    );
    let set = raw(21, 1)?.map_err(|e| eyre::eyre!(e))?;
    assert!(private_status(&r1, set)?.0);
    net.wait_for_height(net.head(0)?.0 + 1, WAIT)?;
    assert_eq!(get(&r3, pp)?, U256::from(21u64), "member3 ran the raw PP transaction");

    // ---- mandatory recipients
    assert_eq!(
        send(&r1, dev, None, &deploy_data(1), json!({"privateFor": [m3], "privacyFlag": 2}))
            .expect_err("no mandatoryFor"),
        "missing mandatory recipients data. if no mandatory recipients required consider using PrivacyFlag=1(PartyProtection)"
    );
    let missing = send(
        &r1,
        dev,
        None,
        &deploy_data(1),
        json!({"privateFor": [m3], "privacyFlag": 2, "mandatoryFor": [m2]}),
    )
    .expect_err("mandatory recipient not in privateFor");
    assert!(missing.contains("mandatory recipients not included"), "{missing}");
    let mpp = send(
        &r1,
        dev,
        None,
        &deploy_data(2),
        json!({"privateFor": [m2, m3], "privacyFlag": 2, "mandatoryFor": [m3]}),
    )
    .map_err(|e| eyre::eyre!(e))?;
    let (ok, mpp_addr) = private_status(&r1, mpp)?;
    assert!(ok);
    let mpp_addr = mpp_addr.expect("contract address");
    net.wait_for_height(net.head(0)?.0 + 1, WAIT)?;
    let m = metadata(&r3, mpp_addr).map_err(|e| eyre::eyre!(e))?;
    assert_eq!(m["privacyFlag"], 2);
    assert_eq!(m["creationTxHash"], tm_hash_b64(&r1, mpp)?);
    assert!(m["mandatoryFor"].as_array().is_some_and(|a| a.contains(&json!(m3))), "{m}");

    // ---- private state validation
    let psv = send(&r1, dev, None, &deploy_data(3), json!({"privateFor": [m3], "privacyFlag": 3}))
        .map_err(|e| eyre::eyre!(e))?;
    let (ok, psv_addr) = private_status(&r1, psv)?;
    assert!(ok);
    let psv_addr = psv_addr.expect("contract address");
    net.wait_for_height(net.head(0)?.0 + 1, WAIT)?;
    assert_eq!(get(&r3, psv_addr)?, U256::from(3u64), "member3 ran the PSV deploy");
    let set =
        send(&r1, dev, Some(psv_addr), &set_data(9), json!({"privateFor": [m3], "privacyFlag": 3}))
            .map_err(|e| eyre::eyre!(e))?;
    assert!(private_status(&r1, set)?.0);
    net.wait_for_height(net.head(0)?.0 + 1, WAIT)?;
    assert_eq!(get(&r1, psv_addr)?, U256::from(9u64));
    assert_eq!(get(&r3, psv_addr)?, U256::from(9u64));
    let r3_receipt = r3.wait_receipt(set, WAIT)?;
    assert_eq!(r3_receipt["status"], "0x1", "member3 verified the merkle root");
    // a PSV transaction sent to a subset of the contract's parties fails
    let subset =
        send(&r1, dev, Some(psv_addr), &set_data(10), json!({"privateFor": [], "privacyFlag": 3}));
    match subset {
        Err(e) => assert!(e.contains("Recipients mismatched"), "{e}"),
        Ok(hash) => assert!(!private_status(&r1, hash)?.0, "PSV to a subset must fail"),
    }
    assert_eq!(get(&r1, psv_addr)?, U256::from(9u64));

    net.assert_no_fork()?;
    Ok(())
}

#[test]
fn network_privacy_flags_refused_when_privacy_enhancements_are_disabled() -> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_full(consensus, 1, 1, 1)?;
    net.wait_for_height(1, WAIT)?;
    let rpc = net.rpc(0)?;
    assert_eq!(import(&rpc, &DEV_KEY)?, DEV_ADDRESS);
    let m1 = net.tms[0].public_key.clone();
    for flag in 1..=3 {
        let mut private = json!({"privateFor": [m1], "privacyFlag": flag});
        if flag == 2 {
            private["mandatoryFor"] = json!([m1]);
        }
        assert_eq!(
            send(&rpc, DEV_ADDRESS, None, &deploy_data(1), private).expect_err("PE disabled"),
            "PrivacyEnhancements are disabled. Can only accept transactions with PrivacyFlag=0(StandardPrivate)."
        );
    }
    // standard private still works, and no contract privacy metadata exists
    let sp = send(&rpc, DEV_ADDRESS, None, &deploy_data(4), json!({"privateFor": [m1]}))
        .map_err(|e| eyre::eyre!(e))?;
    let (ok, addr) = private_status(&rpc, sp)?;
    assert!(ok);
    let addr = addr.expect("contract address");
    assert_eq!(
        metadata(&rpc, addr).expect_err("standard private"),
        format!("{}: no account extra data found", addr.to_checksum(None))
    );
    Ok(())
}
