//! Crash faults: 1 of 4 down keeps the chain going, 2 of 4 down halts it without a fork, and the
//! restarted validators (same data directories) bring it back and catch up.

use std::time::Duration;

use crate::harness::{Node, eventually, genesis, node_key, start_network};

/// Every pair of nodes agrees on the hash of every block both have.
fn assert_no_fork(nodes: &[&Node]) {
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            let upto = a.head().0.min(b.head().0);
            let (ra, rb) = (a.chain.reader().unwrap(), b.chain.reader().unwrap());
            for n in 0..=upto {
                assert_eq!(
                    ra.canonical_hash(n).unwrap(),
                    rb.canonical_hash(n).unwrap(),
                    "fork at block {n}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_down_continues_two_down_halts_restart_resumes() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let (mut nodes, _tmp) = start_network(4, &validators).await;
    eventually(60, "block 2 everywhere", || nodes.iter().all(|n| n.head().0 >= 2)).await;

    // 1 of 4 down: 3 = quorum, blocks continue (including heights it would have proposed).
    let (key3, dir3) = nodes.pop().unwrap().stop().await;
    let start = nodes[0].head().0;
    eventually(60, "4 more blocks with 3 validators", || {
        nodes.iter().all(|n| n.head().0 >= start + 4)
    })
    .await;

    // 2 of 4 down: no quorum, the head stops and nobody forks.
    let (key2, dir2) = nodes.pop().unwrap().stop().await;
    // Let blocks in flight land, then watch several round timeouts (1 s, 2 s, capped at 2 s).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let halted: Vec<_> = nodes.iter().map(Node::head).collect();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let later: Vec<_> = nodes.iter().map(Node::head).collect();
    assert_eq!(halted, later, "the chain advanced without a quorum");
    assert_no_fork(&nodes.iter().collect::<Vec<_>>());

    // Restart both with their data directories: the chain resumes; the stale one catches up.
    let peers: Vec<_> = nodes.iter().map(Node::enode).collect();
    let spec = genesis(&validators);
    nodes.push(Node::start(key2, dir2, spec.clone(), &peers).await);
    let peers: Vec<_> = nodes.iter().map(Node::enode).collect();
    nodes.push(Node::start(key3, dir3, spec, &peers).await);
    let resume_from = halted.iter().map(|h| h.0).max().unwrap();
    eventually(90, "all four past the halt by 3 blocks", || {
        nodes.iter().all(|n| n.head().0 >= resume_from + 3)
    })
    .await;
    assert_no_fork(&nodes.iter().collect::<Vec<_>>());
    for n in nodes {
        n.stop().await;
    }
}

/// One validator cut off from the other three (both sides drop the connections and stop
/// re-dialling): the three continue, the isolated one stalls without forking; after healing it
/// catches up through block sync and takes part again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_validator_catches_up_after_healing() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let (nodes, _tmp) = start_network(4, &validators).await;
    eventually(60, "block 2 everywhere", || nodes.iter().all(|n| n.head().0 >= 2)).await;

    let enodes: Vec<_> = nodes.iter().map(Node::enode).collect();
    for i in 0..3 {
        nodes[i].network.remove_peer(&enodes[3]).unwrap();
        nodes[3].network.remove_peer(&enodes[i]).unwrap();
    }
    eventually(20, "partitioned", || nodes[3].network.num_connected_peers() == 0).await;
    let cut_at = nodes[3].head().0;
    eventually(60, "the majority makes 4 blocks", || {
        nodes[..3].iter().all(|n| n.head().0 >= cut_at + 4)
    })
    .await;
    assert!(nodes[3].head().0 <= cut_at + 1, "the isolated validator made progress alone");
    assert_no_fork(&nodes.iter().collect::<Vec<_>>());

    for enode in &enodes[..3] {
        nodes[3].network.add_peer(enode.clone()).unwrap();
    }
    let target = nodes[0].head().0 + 3;
    eventually(60, "healed: everyone past the partition", || {
        nodes.iter().all(|n| n.head().0 >= target)
    })
    .await;
    // It proposes again in its turn.
    let healed = nodes[0].head().0;
    eventually(30, "a block proposed by the healed validator", || {
        let reader = nodes[0].chain.reader().unwrap();
        (healed + 1..=nodes[0].head().0)
            .any(|b| reader.header(b).unwrap().unwrap().beneficiary == validators[3])
    })
    .await;
    assert_no_fork(&nodes.iter().collect::<Vec<_>>());
    for n in nodes {
        n.stop().await;
    }
}
