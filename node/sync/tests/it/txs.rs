//! Transaction gossip: a transaction submitted on a follower reaches the miner in a batch and
//! is mined; the block comes back to the follower.

use bytes::Bytes;
use qrs_network::{NetworkEvent, Topic};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_transactions_are_batched_to_the_miner_and_mined() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let miner = Node::start(&dir.path().join("miner"), NodeOpts::miner()).await?;
    let follower =
        Node::start(&dir.path().join("f"), NodeOpts::follower(vec![miner.enode.clone()])).await?;
    eventually("connected", || follower.network.num_connected_peers() == 1).await?;
    let mut miner_events = miner.network.events();

    const TXS: u64 = 100;
    let chain = follower.chain.clone();
    let hashes = tokio::task::spawn_blocking(move || {
        (0..TXS).map(|nonce| chain.submit(transfer(nonce, 3))).collect::<Result<Vec<_>, _>>()
    })
    .await??;

    // count the Transactions messages the miner receives for them
    let (mut messages, mut txs) = (0u64, 0u64);
    let count = async {
        while txs < TXS {
            match miner_events.recv().await {
                Some(NetworkEvent::Message { topic: Topic::Transactions, bytes, from }) => {
                    assert_eq!(from, follower.peer_id());
                    messages += 1;
                    txs += qrs_network::decode_tx_batch(Bytes::clone(&bytes))?.len() as u64;
                }
                Some(_) => {}
                None => eyre::bail!("event stream ended"),
            }
        }
        Ok(())
    };
    tokio::time::timeout(PATIENCE, count).await??;
    assert_eq!(txs, TXS);
    assert!(messages * 5 <= TXS, "{messages} messages for {TXS} transactions: not batched");

    eventually("miner mined every transaction", || {
        miner
            .chain
            .reader()
            .is_ok_and(|r| hashes.iter().all(|h| r.tx_location(h).ok().flatten().is_some()))
    })
    .await?;
    let target = miner.chain.head().header.number;
    eventually("follower imported the blocks", || follower.chain.head().header.number == target)
        .await?;
    assert_same_head(&[&miner, &follower]);
    let reader = follower.chain.reader()?;
    for h in &hashes {
        assert!(reader.tx_location(h)?.is_some(), "tx {h} not visible on the follower");
    }
    assert_eq!(follower.chain.pool().status(), (0, 0), "mined transactions left the pool");
    Ok(())
}
