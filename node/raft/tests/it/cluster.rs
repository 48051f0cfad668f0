//! Three (and four) node clusters over the in-memory transport.

use proptest::prelude::*;
use rand::Rng;

use crate::harness::{Cluster, enode_url};

/// raft-rs campaigns after a random 10..20 ticks; allow a few rounds of split votes and lost
/// messages on top.
const ELECTION_BOUND: u64 = 100;

fn elect(c: &mut Cluster) -> u64 {
    c.run_until(ELECTION_BOUND, |c| c.leader().is_some())
        .expect("a leader is elected within the bound");
    c.leader().unwrap()
}

fn all_txs_applied(c: &Cluster, ids: &[u64]) -> bool {
    ids.iter().all(|id| c.chains[id].tx_count() == c.total_txs())
}

#[test]
fn leader_elected_and_blocks_applied_in_same_order() {
    let mut c = Cluster::new(3, 1, 250);
    c.drop_rate = 0.05;
    c.max_delay = 2;
    let leader = elect(&mut c);
    for _ in 0..6 {
        c.submit_txs(7);
        c.run(5);
    }
    let ids = c.live();
    c.run_until(300, |c| all_txs_applied(c, &ids)).expect("all transactions applied everywhere");
    c.assert_chains_consistent();
    let hashes = c.chains[&1].hashes();
    assert!(hashes.len() > 2, "blocks were minted");
    for id in &ids {
        assert_eq!(c.chains[id].hashes(), hashes, "node {id} has the same chain");
        c.assert_seals(*id);
    }
    // Queries.
    let leader_node_id = c.node(leader).leader_node_id().unwrap();
    for id in &ids {
        let n = c.node(*id);
        assert_eq!(n.leader_node_id().unwrap(), leader_node_id);
        assert_eq!(n.role(), if *id == leader { "minter" } else { "verifier" });
        assert_eq!(n.raft_id_of(&enode_url(2)).unwrap(), 2);
        let cluster = n.cluster(|_| true);
        assert_eq!(cluster.len(), 3);
        let json = serde_json::to_value(&cluster[0]).unwrap();
        for key in ["raftId", "nodeId", "hostname", "p2pPort", "raftPort", "role", "nodeActive"] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
    }
    assert_eq!(leader_node_id.len(), 128);
}

#[test]
fn leader_failover_keeps_committed_blocks() {
    let mut c = Cluster::new(3, 2, 250);
    c.max_delay = 1;
    let old = elect(&mut c);
    c.submit_txs(20);
    let ids = c.live();
    c.run_until(200, |c| all_txs_applied(c, &ids)).expect("applied before the failover");
    let committed = c.chains[&old].hashes();

    c.kill(old);
    let rounds =
        c.run_until(ELECTION_BOUND, |c| c.leader().is_some_and(|l| l != old)).expect("new leader");
    let new = c.leader().unwrap();
    assert_ne!(new, old);
    assert!(rounds <= ELECTION_BOUND);

    c.submit_txs(15);
    let survivors = c.live();
    c.run_until(300, |c| all_txs_applied(c, &survivors)).expect("new leader mints the rest");
    c.assert_chains_consistent();
    for id in &survivors {
        let chain = c.chains[id].hashes();
        assert_eq!(&chain[..committed.len()], &committed[..], "node {id} lost a committed block");
    }
}

#[test]
fn learner_joins_then_is_promoted() {
    let mut c = Cluster::new(3, 3, 250);
    let leader = elect(&mut c);
    c.submit_txs(10);
    c.run(30);
    c.start_node(4, true);
    let id = c.node_mut(leader).add_peer(&enode_url(4), true).unwrap();
    assert_eq!(id, 4);
    c.submit_txs(10);
    let ids = c.live();
    c.run_until(300, |c| all_txs_applied(c, &ids) && c.node(4).role() == "learner")
        .expect("learner catches up");
    assert_eq!(c.chains[&4].hashes(), c.chains[&leader].hashes());
    assert_eq!(
        c.node(leader).cluster(|_| true).iter().find(|r| r.raft_id == 4).unwrap().role,
        "learner"
    );
    // A learner cannot change membership.
    assert!(c.node_mut(4).add_peer(&enode_url(5), false).is_err());

    assert!(c.node_mut(leader).promote_to_peer(4).unwrap());
    c.run_until(200, |c| c.node(4).role() == "verifier").expect("promoted");
    // Promoting a voter again is refused with GoQuorum's message.
    let err = c.node_mut(leader).promote_to_peer(4).unwrap_err().to_string();
    assert!(err.contains("is not a learner"), "{err}");
    // Adding the same enode again is refused.
    assert!(c.node_mut(leader).add_peer(&enode_url(4), false).is_err());
    c.submit_txs(5);
    let ids = c.live();
    c.run_until(300, |c| all_txs_applied(c, &ids)).expect("four voters keep going");
    c.assert_chains_consistent();
}

#[test]
fn removed_node_leaves_and_cluster_continues() {
    let mut c = Cluster::new(3, 4, 250);
    let leader = elect(&mut c);
    let victim = (1..=3).find(|id| *id != leader).unwrap();
    c.node_mut(leader).remove_peer(victim as u16).unwrap();
    c.run_until(200, |c| c.node(victim).is_removed()).expect("removal applied on the victim");
    assert_eq!(c.node(victim).role(), "");
    assert!(c.node(victim).cluster(|_| true).is_empty());
    let err = c.node_mut(victim).add_peer(&enode_url(9), false).unwrap_err().to_string();
    assert_eq!(err, "node not part of raft cluster. operations not allowed");
    c.kill(victim);
    let rest: Vec<u64> = c.live();
    c.run_until(100, |c| rest.iter().all(|id| c.node(*id).cluster(|_| true).len() == 2))
        .expect("2 members");
    c.submit_txs(10);
    c.run_until(300, |c| all_txs_applied(c, &rest)).expect("two nodes still commit");
    // The removed id is never reused.
    let next = c.node_mut(c.leader().unwrap()).add_peer(&enode_url(7), true).unwrap();
    assert_eq!(next, 4);
}

#[test]
fn restarted_node_catches_up_from_mdbx_via_snapshot() {
    // Small snapshot period so the leader compacts past the stopped node's log.
    let mut c = Cluster::new(3, 5, 10);
    let leader = elect(&mut c);
    c.submit_txs(10);
    let ids = c.live();
    c.run_until(200, |c| all_txs_applied(c, &ids)).expect("applied");
    let victim = (1..=3).find(|id| *id != leader).unwrap();
    let before = c.chains[&victim].hashes().len();
    c.kill(victim);
    c.submit_txs(120);
    let rest = c.live();
    c.run_until(600, |c| all_txs_applied(c, &rest)).expect("two nodes commit");
    assert!(c.node(leader).snapshot_index() > 20, "the leader compacted its log");
    c.start_node(victim as u16, false);
    c.run_until(300, |c| c.chains[&victim].hashes() == c.chains[&leader].hashes())
        .expect("restarted node catches up");
    assert!(c.chains[&victim].hashes().len() > before);
    c.assert_chains_consistent();
}

proptest! {
    // 6 seeds by default; `PROPTEST_CASES=n` for a longer soak.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(6),
        ..ProptestConfig::default()
    })]

    /// Under drops, delays, partitions and leader kills, no two nodes ever apply different
    /// entries at the same index (checked by the harness on every apply) and chains never fork.
    #[test]
    fn no_divergent_applies(seed in any::<u64>()) {
        let mut c = Cluster::new(3, seed, 20);
        c.drop_rate = 0.1;
        c.max_delay = 3;
        for step in 0..12u64 {
            c.submit_txs(4);
            c.run(15);
            match step % 4 {
                1 => {
                    let victim = 1 + c.rng.gen_range(0..3u64);
                    c.isolated.insert(victim);
                }
                2 => c.isolated.clear(),
                3 => {
                    if let Some(l) = c.leader() {
                        c.kill(l);
                        c.run(30);
                        c.start_node(l as u16, false);
                    }
                }
                _ => {}
            }
            c.assert_chains_consistent();
        }
        // Liveness is only sanity-checked: election timing comes from raft-rs's own randomness,
        // not the seed. Over 150 seeds the longest chain had 8-13 blocks; once in ~250 runs
        // under heavy CPU load, 5.
        let longest = c.chains.values().map(|ch| ch.hashes().len()).max().unwrap();
        prop_assert!(longest > 3, "the cluster made progress ({longest} blocks)");
    }
}
