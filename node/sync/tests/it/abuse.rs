//! Bad blocks and bad bytes: the sender is penalised and nothing is imported.

use std::sync::Arc;

use alloy_consensus::Header;
use alloy_primitives::B256;
use bytes::Bytes;
use qrs_chain::{BuildAttributes, Chain};
use qrs_consensus::BlockVerifier;
use qrs_network::Topic;

use crate::support::*;

/// A peer announcing a block with a wrong state root (a real block, modified) is penalised and
/// the block is not imported; the same block unmodified is then imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_state_root_is_penalised_and_not_imported() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    // the "rogue" runs the network and serves requests, but announces by hand
    let rogue = Node::start(&dir.path().join("rogue"), NodeOpts::follower(Vec::new())).await?;
    let follower =
        Node::start(&dir.path().join("f"), NodeOpts::follower(vec![rogue.enode.clone()])).await?;
    eventually("connected", || rogue.network.num_connected_peers() == 1).await?;
    let mut events = follower.network.events();

    rogue.chain.submit(transfer(0, 5))?;
    let built = rogue
        .chain
        .build_block(BuildAttributes { timestamp: 1_700_000_001, ..Default::default() })?;
    let mut bad = built.block.clone();
    bad.header.state_root = B256::repeat_byte(0xab);
    rogue.network.broadcast(Topic::BlockAnnounce, qrs_sync::encode_block(&bad))?;
    let reason = penalised(&mut events, rogue.peer_id()).await?;
    assert!(reason.contains("state root mismatch"), "unexpected reason: {reason}");
    assert_eq!(follower.chain.head().header.number, 0, "bad block imported");

    // the genuine block is accepted from the same peer
    rogue.network.broadcast(Topic::BlockAnnounce, qrs_sync::encode_block(&built.block))?;
    eventually("genuine block imported", || follower.chain.head().header.number == 1).await?;
    assert_eq!(follower.chain.head().hash, built.block.hash);
    Ok(())
}

struct RejectAll;

impl BlockVerifier for RejectAll {
    fn verify_header(&self, _chain: &Chain, header: &Header) -> Result<(), String> {
        Err(format!("bad seal on block {}", header.number))
    }
}

/// A block the engine's verifier rejects is not imported and its sender is penalised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_rejection_penalises_sender() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let miner = Node::start(&dir.path().join("miner"), NodeOpts::miner()).await?;
    let follower = Node::start(
        &dir.path().join("f"),
        NodeOpts { verifier: Arc::new(RejectAll), ..NodeOpts::follower(vec![miner.enode.clone()]) },
    )
    .await?;
    eventually("connected", || miner.network.num_connected_peers() == 1).await?;
    let mut events = follower.network.events();
    miner.chain.submit(transfer(0, 5))?;
    let reason = penalised(&mut events, miner.peer_id()).await?;
    assert!(reason.contains("bad seal on block 1"), "unexpected reason: {reason}");
    assert!(miner.chain.head().header.number >= 1);
    assert_eq!(follower.chain.head().header.number, 0, "rejected block imported");
    Ok(())
}

/// Undecodable announcements and transaction batches earn strikes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_announcements_and_batches_are_penalised() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let rogue = Node::start(&dir.path().join("rogue"), NodeOpts::follower(Vec::new())).await?;
    let follower =
        Node::start(&dir.path().join("f"), NodeOpts::follower(vec![rogue.enode.clone()])).await?;
    eventually("connected", || rogue.network.num_connected_peers() == 1).await?;
    let mut events = follower.network.events();

    rogue.network.broadcast(Topic::BlockAnnounce, Bytes::from_static(&[0xc3, 1, 2]))?;
    let reason = penalised(&mut events, rogue.peer_id()).await?;
    assert!(reason.contains("malformed block announcement"), "{reason}");

    let batch = qrs_network::encode_tx_batch(&[Bytes::from_static(&[0x02, 0xc1, 0x80])]);
    rogue.network.broadcast(Topic::Transactions, batch)?;
    let reason = penalised(&mut events, rogue.peer_id()).await?;
    assert!(reason.contains("undecodable transaction"), "{reason}");
    assert_eq!(follower.chain.pool().status(), (0, 0));
    assert_eq!(follower.chain.head().header.number, 0);
    Ok(())
}
