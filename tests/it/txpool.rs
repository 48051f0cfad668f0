//! `txpool_status`, `txpool_content` and `txpool_inspect` show a gapped (queued) transaction
//! in geth's shapes, and it leaves the pool once the gap is filled and both mine.

use alloy_primitives::{Address, U256};
use qrs_e2e::Wallet;
use serde_json::{Value, json};

use crate::common::dev_node;

#[test]
fn queued_transaction_in_geth_shapes_then_mined() -> eyre::Result<()> {
    let n = dev_node()?;
    let wallet = Wallet::dev()?;
    let dev = format!("{:#x}", wallet.address());
    let to = Address::repeat_byte(0x11);
    // nonce 1 first: a gap, so it waits in `queued`
    let hash = n.rpc.send_raw(&wallet.transfer(1, to, U256::from(16))?)?;
    let status: Value = n.rpc.req("txpool_status", json!([]))?;
    assert_eq!(status, json!({ "pending": "0x0", "queued": "0x1" }));
    let content: Value = n.rpc.req("txpool_content", json!([]))?;
    assert_eq!(content["pending"], json!({}));
    let queued = &content["queued"][&dev]["1"];
    assert_eq!(queued["hash"], json!(format!("{hash:#x}")));
    assert_eq!(queued["blockHash"], Value::Null);
    assert_eq!(queued["nonce"], json!("0x1"));
    let inspect: Value = n.rpc.req("txpool_inspect", json!([]))?;
    assert_eq!(inspect["queued"][&dev]["1"], json!(format!("{to:#x}: 16 wei + 21000 gas × 0 wei")));
    // fill the gap: both become executable and are mined
    n.rpc.send_raw(&wallet.transfer(0, to, U256::from(1))?)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status: Value = n.rpc.req("txpool_status", json!([]))?;
        let balance: String = n.rpc.req("eth_getBalance", json!([format!("{to:#x}"), "latest"]))?;
        if status == json!({ "pending": "0x0", "queued": "0x0" }) && balance == "0x11" {
            return Ok(());
        }
        eyre::ensure!(
            std::time::Instant::now() < deadline,
            "not mined: {status}, balance {balance}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// geth's locals over the wire: a client's transactions arriving in reverse nonce order are
/// all held (150 queued behind a gap, past the 64 per-account queue cap), then all mine.
#[test]
fn rpc_transactions_in_reverse_nonce_order_all_land() -> eyre::Result<()> {
    const N: u64 = 150;
    let n = dev_node()?;
    let wallet = Wallet::dev()?;
    let to = Address::repeat_byte(0x22);
    for nonce in (1..N).rev() {
        n.rpc.send_raw(&wallet.transfer(nonce, to, U256::from(1))?)?;
    }
    let status: Value = n.rpc.req("txpool_status", json!([]))?;
    assert_eq!(status, json!({ "pending": "0x0", "queued": format!("{:#x}", N - 1) }));
    n.rpc.send_raw(&wallet.transfer(0, to, U256::from(1))?)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let balance: String = n.rpc.req("eth_getBalance", json!([format!("{to:#x}"), "latest"]))?;
        if balance == format!("{N:#x}") {
            let status: Value = n.rpc.req("txpool_status", json!([]))?;
            assert_eq!(status, json!({ "pending": "0x0", "queued": "0x0" }));
            return Ok(());
        }
        eyre::ensure!(std::time::Instant::now() < deadline, "not all mined: balance {balance}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
