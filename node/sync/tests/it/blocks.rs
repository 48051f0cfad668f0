//! Announcements and range sync between a dev-mining node and followers.

use qrs_sync::SyncStatus;

use crate::support::*;

/// Followers of a dev miner import its announced blocks; all heads (hash + state root) agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_import_announced_blocks() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let miner = Node::start(&dir.path().join("miner"), NodeOpts::miner()).await?;
    let a =
        Node::start(&dir.path().join("a"), NodeOpts::follower(vec![miner.enode.clone()])).await?;
    let b = Node::start(
        &dir.path().join("b"),
        NodeOpts::follower(vec![miner.enode.clone(), a.enode.clone()]),
    )
    .await?;
    eventually("full mesh", || miner.network.num_connected_peers() == 2).await?;
    for nonce in 0..20 {
        miner.chain.submit(transfer(nonce, 7))?;
        // each transfer is mined on its own (instant dev engine) and announced
        eventually("miner mined the transfer", || miner.chain.head().header.number > nonce).await?;
    }
    let target = miner.chain.head().header.number;
    assert!(target >= 1);
    eventually("followers at the miner's head", || {
        a.chain.head().header.number == target && b.chain.head().header.number == target
    })
    .await?;
    assert_same_head(&[&miner, &a, &b]);
    assert!(!a.sync.is_syncing());
    Ok(())
}

/// A follower started after 210 blocks fetches them by range requests; `SyncStatus` reports
/// the highest block; a follower restarted later catches up the blocks it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_and_restarted_followers_range_sync() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let miner = Node::start(&dir.path().join("miner"), NodeOpts::follower(Vec::new())).await?;
    // blocks made before anyone listens (one transfer each, so state roots are checked)
    mine_transfers(&miner.chain, 210)?;
    let target = miner.chain.head().header.number;
    assert_eq!(target, 210);

    let late_dir = dir.path().join("late");
    let key = qrs_network::NodeKey::generate();
    let late = Node::start(
        &late_dir,
        NodeOpts { key: key.clone(), ..NodeOpts::follower(vec![miner.enode.clone()]) },
    )
    .await?;
    eventually("late follower synced 210 blocks", || late.chain.head().header.number == target)
        .await?;
    assert_same_head(&[&miner, &late]);
    let status: SyncStatus = late.sync.status();
    assert_eq!(status.highest_block, target);
    assert_eq!(status.current_block, target);
    eventually("sync finished", || !late.sync.is_syncing()).await?;

    // restart: stop the follower, make 50 more blocks, start it on the same data directory
    late.stop(&miner).await?;
    mine_transfers(&miner.chain, 50)?;
    let target = miner.chain.head().header.number;
    let late = reopen(&late_dir, key, vec![miner.enode.clone()]).await?;
    assert!(late.chain.head().header.number >= 210, "restart lost blocks");
    eventually("restarted follower caught up", || late.chain.head().header.number == target)
        .await?;
    assert_same_head(&[&miner, &late]);
    Ok(())
}

/// Starts a node on an existing data directory. MDBX refuses a second open while the previous
/// instance's last chain handle (held by its network task until it ends) is alive, so retry.
async fn reopen(
    dir: &std::path::Path,
    key: qrs_network::NodeKey,
    static_nodes: Vec<qrs_network::Enode>,
) -> eyre::Result<Node> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let opts = NodeOpts { key: key.clone(), ..NodeOpts::follower(static_nodes.clone()) };
        match Node::start(dir, opts).await {
            Ok(node) => return Ok(node),
            Err(e)
                if tokio::time::Instant::now() < deadline
                    && format!("{e:#}").contains("temporarily unavailable") =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
