//! `eth_sendTransactionAsync` (GoQuorum): the call answers 32 zero bytes at once; the node then
//! signs and sends the transaction (here a private deploy from member1 for member3) and POSTs
//! `{"txHash"}` or `{"error"}` to the `callbackUrl`, served by a tiny HTTP listener in the test.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    sync::mpsc,
    time::Duration,
};

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use qrs_contracts::bindings::SimpleStorage;
use qrs_e2e::{Consensus, DEV_ADDRESS, DEV_KEY, TestNet, network::wait_for};
use serde_json::{Value, json};

/// Accepts HTTP requests on loopback and hands each POST body (as JSON) to the returned channel.
fn callback_listener() -> eyre::Result<(String, mpsc::Receiver<Value>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/callback", listener.local_addr()?);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if tx.send(value).is_err() {
                return;
            }
        }
    });
    Ok((url, rx))
}

const ZERO_HASH: &str = "0x0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn network_send_transaction_async_with_callback() -> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_full(consensus, 4, 4, 3)?;
    net.wait_for_height(1, Duration::from_secs(30))?;
    let rpc = net.rpc(0)?;
    rpc.req::<Value>("personal_importRawKey", json!([DEV_KEY.to_string(), "member1"]))?;
    rpc.req::<Value>("personal_unlockAccount", json!([DEV_ADDRESS, "member1", 0]))?;
    let (url, callbacks) = callback_listener()?;

    // a private deploy for member3: zero hash at once, the real hash in the callback
    let code = qrs_contracts::simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(4242u64) }.abi_encode());
    let request = json!({"jsonrpc": "2.0", "id": 77, "method": "eth_sendTransactionAsync",
        "params": [{"from": DEV_ADDRESS, "data": code, "gas": "0x2dc6c0",
                    "privateFor": [net.tms[2].public_key], "callbackUrl": url}]});
    let answer = rpc.post_raw(request.to_string()).map_err(|e| eyre::eyre!("{e:?}"))?;
    assert_eq!(answer["result"], json!(ZERO_HASH), "{answer}");
    let body = callbacks.recv_timeout(Duration::from_secs(30))?;
    // GoQuorum echoes the request id as its raw JSON text
    assert_eq!(body["id"], json!("77"), "{body}");
    let tx: B256 = serde_json::from_value(body["txHash"].clone())
        .map_err(|e| eyre::eyre!("callback without txHash ({e}): {body}"))?;
    assert!(body.get("error").is_none(), "{body}");
    let receipt = rpc.wait_receipt(tx, Duration::from_secs(30))?;
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let public: Value = rpc.req("eth_getTransactionByHash", json!([tx]))?;
    assert!(public["v"] == json!("0x25") || public["v"] == json!("0x26"), "private: {public}");
    let contract: Address = serde_json::from_value(receipt["contractAddress"].clone())?;
    let get = json!([{"to": contract, "data": Bytes::from(SimpleStorage::getCall {}.abi_encode())}, "latest"]);
    let party = net.rpc(2)?;
    let want = format!("0x{:064x}", 4242);
    wait_for(Duration::from_secs(30), "member3 to read the deployed value", || {
        (party.req::<String>("eth_call", get.clone()).ok()? == want).then_some(())
    })?;
    assert_eq!(net.rpc(1)?.req::<String>("eth_call", get)?, "0x", "member2 is not a party");

    // a sender the node holds no key for: still the zero hash, the error in the callback
    let stranger = Address::repeat_byte(0x42);
    let request = json!({"jsonrpc": "2.0", "id": "cb-2", "method": "eth_sendTransactionAsync",
        "params": [{"from": stranger, "to": contract, "gas": "0x5208", "callbackUrl": url}]});
    let answer = rpc.post_raw(request.to_string()).map_err(|e| eyre::eyre!("{e:?}"))?;
    assert_eq!(answer["result"], json!(ZERO_HASH), "{answer}");
    let body = callbacks.recv_timeout(Duration::from_secs(30))?;
    assert_eq!(body["id"], json!("\"cb-2\""), "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(!error.is_empty() && body.get("txHash").is_none(), "error callback: {body}");

    // without a callback the transaction is still sent
    let before = rpc.nonce(DEV_ADDRESS, "latest")?;
    let answer: String = rpc.req(
        "eth_sendTransactionAsync",
        json!([{"from": DEV_ADDRESS, "to": stranger, "value": "0x1", "gas": "0x5208"}]),
    )?;
    assert_eq!(answer, ZERO_HASH);
    wait_for(Duration::from_secs(30), "the public async send to be mined", || {
        (rpc.nonce(DEV_ADDRESS, "latest").ok()? > before).then_some(())
    })?;
    assert_eq!(rpc.balance(stranger, "latest")?, U256::from(1u64));
    net.assert_no_fork()?;
    Ok(())
}
