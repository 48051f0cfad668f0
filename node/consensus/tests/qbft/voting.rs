//! Validator voting through blocks (`istanbul_propose`): 3 of 4 validators vote a fifth node in,
//! the validator list in extraData changes at the block after the deciding vote, the new
//! validator takes part; then the same majority votes it out again.

use alloy_primitives::Address;
use qrs_qbft::{QbftExtra, seal::qbft_committers};

use crate::harness::{Node, eventually, node_key, start_network};

fn extra_validators(node: &Node, number: u64) -> Vec<Address> {
    let header = node.chain.reader().unwrap().header(number).unwrap().unwrap();
    QbftExtra::decode_extra(&header.extra_data).unwrap().validators
}

/// The first block after which the snapshot's membership of `who` is `member`.
fn block_where(node: &Node, who: Address, member: bool, from: u64) -> u64 {
    (from..=node.head().0)
        .find(|n| node.handle.validators(*n).unwrap().contains(&who) == member)
        .expect("membership changed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propose_adds_then_removes_a_validator() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    // Node 4 runs the engine too, as a follower until it is voted in.
    let (nodes, _tmp) = start_network(5, &validators).await;
    let fifth = node_key(4).address();
    assert!(!nodes[4].handle.is_validator(0).unwrap());
    eventually(30, "block 1", || nodes.iter().all(|n| n.head().0 >= 1)).await;

    for n in &nodes[..3] {
        n.handle.propose(fifth, true);
        assert_eq!(n.handle.candidates().get(&fifth), Some(&true));
    }
    eventually(60, "the fifth validator voted in", || {
        nodes.iter().all(|n| n.handle.is_validator(n.head().0).is_ok())
            && nodes[0].handle.validators(nodes[0].head().0).unwrap().contains(&fifth)
    })
    .await;
    let added = block_where(&nodes[0], fifth, true, 1);
    let header = nodes[0].chain.reader().unwrap().header(added).unwrap().unwrap();
    assert_eq!(qrs_qbft::header::read_qbft_vote(&header), Some((fifth, true)), "deciding vote");
    assert!(
        !extra_validators(&nodes[0], added).contains(&fifth),
        "block {added} lists the old set"
    );
    // Votes from three distinct proposers were needed (tally > N/2 = 2).
    let voters: std::collections::BTreeSet<_> = (1..=added)
        .map(|n| nodes[0].chain.reader().unwrap().header(n).unwrap().unwrap())
        .filter(|h| qrs_qbft::header::read_qbft_vote(h) == Some((fifth, true)))
        .map(|h| h.beneficiary)
        .collect();
    assert_eq!(voters.len(), 3, "voters {voters:?}");

    // The next block lists five validators, and the new one seals blocks.
    eventually(60, "the new validator seals", || {
        let head = nodes[0].head().0;
        head > added + 1
            && (added + 2..=head).any(|n| {
                let h = nodes[0].chain.reader().unwrap().header(n).unwrap().unwrap();
                qrs_qbft::seal::qbft_committers(&h).unwrap().contains(&fifth)
                    || h.beneficiary == fifth
            })
    })
    .await;
    let five = extra_validators(&nodes[0], added + 1);
    assert_eq!(five.len(), 5);
    assert!(five.contains(&fifth));
    assert!(nodes[4].handle.is_validator(added).unwrap());

    // Voting it out: 3 of 5 (tally > 5/2 = 2).
    for n in &nodes[..3] {
        n.handle.propose(fifth, false);
    }
    eventually(90, "the fifth validator voted out", || {
        !nodes[0].handle.validators(nodes[0].head().0).unwrap().contains(&fifth)
    })
    .await;
    let removed = block_where(&nodes[0], fifth, false, added + 1);
    assert!(extra_validators(&nodes[0], removed).contains(&fifth));
    eventually(30, "a block listing four validators", || nodes[0].head().0 > removed).await;
    assert_eq!(extra_validators(&nodes[0], removed + 1).len(), 4);
    // And the four continue without it.
    let after = nodes[0].head().0;
    eventually(30, "blocks continue", || nodes[0].head().0 >= after + 2).await;
    let last = nodes[0].chain.reader().unwrap().header(after + 2).unwrap().unwrap();
    assert!(!qbft_committers(&last).unwrap().contains(&fifth));
    for n in nodes {
        n.stop().await;
    }
}
