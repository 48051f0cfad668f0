//! Helpers shared by the test modules: a dev node in a temp dir, deployments.

use alloy_primitives::{Address, Bytes};
use qrs_e2e::{QNode, QNodeOptions, Rpc, Wallet};
use serde_json::Value;
use tempfile::TempDir;

/// A running dev node with its temp dir (declared after the node so the node drops first).
pub struct DevNode {
    pub node: QNode,
    pub rpc: Rpc,
    pub _dir: TempDir,
}

/// Starts `qnode --dev` on a fresh data directory.
pub fn dev_node() -> eyre::Result<DevNode> {
    dev_node_with(|o| o)
}

/// Starts `qnode --dev` with extra options.
pub fn dev_node_with(f: impl FnOnce(QNodeOptions) -> QNodeOptions) -> eyre::Result<DevNode> {
    let dir = tempfile::tempdir()?;
    let node = QNode::start(f(QNodeOptions::dev(dir.path().join("node"))))?;
    let rpc = node.rpc()?;
    Ok(DevNode { node, rpc, _dir: dir })
}

/// Deploys `code` from `wallet` with `nonce`; returns the contract address and the receipt.
pub fn deploy(
    rpc: &Rpc,
    wallet: &Wallet,
    nonce: u64,
    code: Bytes,
) -> eyre::Result<(Address, Value)> {
    let receipt = rpc.send_and_wait(&wallet.create(nonce, code)?)?;
    let address: Address = serde_json::from_value(receipt["contractAddress"].clone())?;
    Ok((address, receipt))
}

/// `eth_call` of `data` on `to` at `tag`, decoded as bytes.
pub fn eth_call(rpc: &Rpc, to: Address, data: &[u8], tag: &str) -> eyre::Result<Bytes> {
    rpc.req(
        "eth_call",
        serde_json::json!([{ "to": to, "data": alloy_primitives::hex::encode_prefixed(data) }, tag]),
    )
}
