//! Bad input gets geth's error code and message, and the node keeps serving afterwards.

use alloy_primitives::{Address, Bytes, Signature, TxKind, U256};
use alloy_sol_types::{SolCall, SolError};
use qrs_contracts::bindings::Reverter;
use qrs_e2e::{
    DEV_ADDRESS, DEV_CHAIN_ID, Rpc, RpcError, Wallet,
    wallet::{CALL_GAS, TRANSFER_GAS, encode_signed},
};
use serde_json::{Value, json};

use crate::common::{deploy, dev_node};

/// geth's code for transaction and state errors.
const SERVER_ERROR: i64 = -32000;

/// The node still answers after the bad request.
fn still_serving(rpc: &Rpc) -> eyre::Result<()> {
    rpc.block_number()?;
    let chain_id: String = rpc.req("eth_chainId", json!([]))?;
    assert_eq!(chain_id, "0x539");
    Ok(())
}

fn assert_rpc_error(result: Result<Value, RpcError>, code: i64, message: &str) {
    match result {
        Err(RpcError::Rpc { code: c, message: m, .. }) => {
            assert_eq!((c, m.as_str()), (code, message), "error code/message");
        }
        other => panic!("expected JSON-RPC error {code} {message:?}, got {other:?}"),
    }
}

fn send_raw(rpc: &Rpc, raw: &[u8]) -> Result<Value, RpcError> {
    rpc.call("eth_sendRawTransaction", json!([alloy_primitives::hex::encode_prefixed(raw)]))
}

/// A request that is not JSON gets -32700 with a null id.
#[test]
fn malformed_json_gets_parse_error_code() -> eyre::Result<()> {
    let n = dev_node()?;
    for body in [r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance""#, "not json at all", "[{"] {
        let resp = n.rpc.post_raw(body)?;
        assert_eq!(resp["error"]["code"], json!(-32700), "{body}: {resp}");
        assert_eq!(resp["id"], Value::Null, "{body}: {resp}");
        still_serving(&n.rpc)?;
    }
    Ok(())
}

/// geth (`rpc/server.go`: `invalidMessageError{"parse error"}`) says `parse error`.
#[test]
fn malformed_json_message_is_geths() -> eyre::Result<()> {
    let n = dev_node()?;
    let resp = n.rpc.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance""#)?;
    assert_eq!(resp["error"], json!({ "code": -32700, "message": "parse error" }), "{resp}");
    still_serving(&n.rpc)
}

#[test]
fn unknown_method() -> eyre::Result<()> {
    let n = dev_node()?;
    assert_rpc_error(
        n.rpc.call("eth_nope", json!([])),
        -32601,
        "the method eth_nope does not exist/is not available",
    );
    still_serving(&n.rpc)
}

#[test]
fn wrong_param_types() -> eyre::Result<()> {
    let n = dev_node()?;
    let cases = [
        ("eth_getBalance", json!([1, "latest"]), "invalid argument 0: "),
        ("eth_getBalance", json!(["0xzz", "latest"]), "invalid argument 0: "),
        ("eth_getBlockByNumber", json!(["latest", "yes"]), "invalid argument 1: "),
        ("eth_getTransactionByHash", json!([{"a": 1}]), "invalid argument 0: "),
    ];
    for (method, params, prefix) in cases {
        match n.rpc.call(method, params.clone()) {
            Err(RpcError::Rpc { code, message, .. }) => {
                assert_eq!(code, -32602, "{method} {params}: {message}");
                assert!(
                    message.starts_with(prefix),
                    "{method} {params}: {message:?} should start with {prefix:?}"
                );
            }
            other => panic!("{method} {params}: expected -32602, got {other:?}"),
        }
        still_serving(&n.rpc)?;
    }
    Ok(())
}

/// `0x` is a typed transaction with no type byte: geth's `typed transaction too short`.
#[test]
fn empty_raw_transaction() -> eyre::Result<()> {
    let n = dev_node()?;
    assert_rpc_error(send_raw(&n.rpc, &[]), SERVER_ERROR, "typed transaction too short");
    still_serving(&n.rpc)
}

/// Broken RLP gets geth's `rlp:` decoder messages (`core/types.Transaction.UnmarshalBinary`).
#[test]
fn invalid_rlp_raw_transaction() -> eyre::Result<()> {
    let n = dev_node()?;
    let good = Wallet::dev()?.transfer(0, Address::repeat_byte(1), U256::from(1))?;
    let truncated = &good[..good.len() - 10];
    assert_rpc_error(
        send_raw(&n.rpc, truncated),
        SERVER_ERROR,
        "rlp: value size exceeds available input length",
    );
    still_serving(&n.rpc)?;
    assert_rpc_error(
        send_raw(&n.rpc, &[0xc0]),
        SERVER_ERROR,
        "rlp: too few elements for types.LegacyTx",
    );
    still_serving(&n.rpc)
}

/// A first byte below 0x7f that is no known type: geth's `transaction type not supported`.
#[test]
fn unknown_transaction_type() -> eyre::Result<()> {
    let n = dev_node()?;
    assert_rpc_error(
        send_raw(&n.rpc, &[0x12, 0x34]),
        SERVER_ERROR,
        "transaction type not supported",
    );
    still_serving(&n.rpc)
}

/// A signature no key produced: `invalid sender`.
#[test]
fn bad_signature() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let tx = w.legacy(
        0,
        TxKind::Call(Address::repeat_byte(1)),
        U256::from(1),
        Bytes::new(),
        TRANSFER_GAS,
    );
    // s = 0 is never a valid ECDSA signature; r is an arbitrary value.
    let zero_s = Signature::new(U256::from(12345), U256::ZERO, false);
    assert_rpc_error(
        send_raw(&n.rpc, &encode_signed(tx.clone(), zero_s)),
        SERVER_ERROR,
        "invalid sender",
    );
    still_serving(&n.rpc)?;
    // s above the curve order.
    let high_s = Signature::new(U256::from(12345), U256::MAX, true);
    assert_rpc_error(send_raw(&n.rpc, &encode_signed(tx, high_s)), SERVER_ERROR, "invalid sender");
    still_serving(&n.rpc)
}

/// Signed for another chain: modern geth's `invalid sender: invalid chain id for signer: have X want Y`.
/// (Chain id 1 is not used here: its `v` 37/38 marks a GoQuorum private transaction.)
#[test]
fn wrong_chain_id() -> eyre::Result<()> {
    let n = dev_node()?;
    for other in [5u64, DEV_CHAIN_ID + 1] {
        let w = Wallet::from_key(qrs_e2e::DEV_KEY, other)?;
        let raw = w.transfer(0, Address::repeat_byte(1), U256::from(1))?;
        assert_rpc_error(
            send_raw(&n.rpc, &raw),
            SERVER_ERROR,
            &format!(
                "invalid sender: invalid chain id for signer: have {other} want {DEV_CHAIN_ID}"
            ),
        );
        still_serving(&n.rpc)?;
    }
    Ok(())
}

#[test]
fn nonce_too_low() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    n.rpc.send_and_wait(&w.transfer(0, Address::repeat_byte(1), U256::from(1))?)?;
    let replay = w.transfer(0, Address::repeat_byte(2), U256::from(2))?;
    assert_rpc_error(send_raw(&n.rpc, &replay), SERVER_ERROR, "nonce too low");
    still_serving(&n.rpc)?;
    // the account goes on at nonce 1
    n.rpc.send_and_wait(&w.transfer(1, Address::repeat_byte(2), U256::from(2))?)?;
    Ok(())
}

#[test]
fn insufficient_funds() -> eyre::Result<()> {
    let n = dev_node()?;
    let poor = Wallet::random(DEV_CHAIN_ID);
    let raw = poor.transfer(0, DEV_ADDRESS, U256::from(1))?;
    assert_rpc_error(
        send_raw(&n.rpc, &raw),
        SERVER_ERROR,
        "insufficient funds for gas * price + value",
    );
    still_serving(&n.rpc)
}

/// More than geth's 128 KiB transaction size limit.
#[test]
fn oversized_transaction() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let data = Bytes::from(vec![0xab_u8; 4 * 32 * 1024 + 1]);
    let raw = w.sign_legacy(w.legacy(
        0,
        TxKind::Call(Address::repeat_byte(1)),
        U256::ZERO,
        data,
        10_000_000,
    ))?;
    assert_rpc_error(send_raw(&n.rpc, &raw), SERVER_ERROR, "oversized data");
    still_serving(&n.rpc)
}

/// GoQuorum's free-gas rule for legacy transactions.
#[test]
fn nonzero_gas_price() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let mut tx = w.legacy(
        0,
        TxKind::Call(Address::repeat_byte(1)),
        U256::from(1),
        Bytes::new(),
        TRANSFER_GAS,
    );
    tx.gas_price = 1_000_000_000;
    assert_rpc_error(send_raw(&n.rpc, &w.sign_legacy(tx)?), SERVER_ERROR, "Gas price not 0");
    still_serving(&n.rpc)
}

#[test]
fn unprotected_legacy_transaction() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let mut tx = w.legacy(
        0,
        TxKind::Call(Address::repeat_byte(1)),
        U256::from(1),
        Bytes::new(),
        TRANSFER_GAS,
    );
    tx.chain_id = None;
    assert_rpc_error(
        send_raw(&n.rpc, &w.sign_legacy(tx)?),
        SERVER_ERROR,
        "only replay-protected (EIP-155) transactions allowed over RPC",
    );
    still_serving(&n.rpc)
}

/// `eth_call` of a reverting function: code 3, `execution reverted[: reason]`, data = revert bytes.
#[test]
fn eth_call_revert() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let reverter = qrs_contracts::reverter();
    let (addr, _) = deploy(&n.rpc, &w, 0, reverter.deploy_data(&[]))?;
    let call = |data: Vec<u8>| {
        n.rpc.call(
            "eth_call",
            json!([{ "from": DEV_ADDRESS, "to": addr, "data": alloy_primitives::hex::encode_prefixed(data) }, "latest"]),
        )
    };
    let ok: Bytes = serde_json::from_value(call(Reverter::okCall {}.abi_encode())?)?;
    assert_eq!(Reverter::okCall::abi_decode_returns(&ok)?, U256::from(7));

    let reason = alloy_sol_types::Revert::from("view reason").abi_encode();
    match call(Reverter::viewRevertCall {}.abi_encode()) {
        Err(RpcError::Rpc { code, message, data }) => {
            assert_eq!((code, message.as_str()), (3, "execution reverted: view reason"));
            assert_eq!(data, Some(json!(alloy_primitives::hex::encode_prefixed(&reason))));
        }
        other => panic!("expected a revert, got {other:?}"),
    }
    let custom = Reverter::Unauthorized { caller: DEV_ADDRESS, code: U256::from(42) }.abi_encode();
    match call(Reverter::revertWithCustomErrorCall {}.abi_encode()) {
        Err(RpcError::Rpc { code, message, data }) => {
            assert_eq!((code, message.as_str()), (3, "execution reverted"));
            assert_eq!(data, Some(json!(alloy_primitives::hex::encode_prefixed(&custom))));
        }
        other => panic!("expected a revert, got {other:?}"),
    }
    still_serving(&n.rpc)
}

/// A batch mixing good and bad requests: one answer per request, in order, each with its id.
#[test]
fn mixed_batch() -> eyre::Result<()> {
    let n = dev_node()?;
    let batch = json!([
        { "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [] },
        { "jsonrpc": "2.0", "id": "two", "method": "eth_nope", "params": [] },
        { "jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0xzz", "latest"] },
        { "jsonrpc": "2.0", "id": 4, "method": "eth_getBalance", "params": [DEV_ADDRESS, "latest"] },
        { "jsonrpc": "2.0", "id": 5, "method": "eth_sendRawTransaction", "params": ["0x"] },
        { "jsonrpc": "2.0", "id": 6, "method": "eth_blockNumber", "params": [] },
    ]);
    let resp = n.rpc.post_raw(batch.to_string())?;
    let answers =
        resp.as_array().ok_or_else(|| eyre::eyre!("batch answer is not an array: {resp}"))?;
    assert_eq!(answers.len(), 6, "{resp}");
    let ids: Vec<&Value> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(
        ids,
        [&json!(1), &json!("two"), &json!(3), &json!(4), &json!(5), &json!(6)],
        "{resp}"
    );
    assert_eq!(answers[0]["result"], json!("0x539"));
    assert_eq!(
        answers[1]["error"],
        json!({ "code": -32601, "message": "the method eth_nope does not exist/is not available" })
    );
    assert_eq!(answers[2]["error"]["code"], json!(-32602));
    assert!(
        answers[2]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("invalid argument 0: ")),
        "{resp}"
    );
    assert_eq!(
        answers[3]["result"],
        json!(format!("{:#x}", n.rpc.balance(DEV_ADDRESS, "latest")?))
    );
    assert_eq!(
        answers[4]["error"],
        json!({ "code": -32000, "message": "typed transaction too short" })
    );
    assert_eq!(answers[5]["result"], json!("0x0"));
    still_serving(&n.rpc)
}

/// A failing call does not poison the account: the same wallet can still transact.
#[test]
fn rejected_transactions_leave_the_pool_usable() -> eyre::Result<()> {
    let n = dev_node()?;
    let w = Wallet::dev()?;
    let mut bad =
        w.legacy(0, TxKind::Call(Address::repeat_byte(1)), U256::from(1), Bytes::new(), CALL_GAS);
    bad.gas_price = 1;
    assert!(send_raw(&n.rpc, &w.sign_legacy(bad)?).is_err());
    let receipt = n.rpc.send_and_wait(&w.transfer(0, Address::repeat_byte(1), U256::from(1))?)?;
    assert_eq!(receipt["from"], json!(format!("{:#x}", DEV_ADDRESS)));
    assert_eq!(n.rpc.nonce(DEV_ADDRESS, "latest")?, 1);
    Ok(())
}
