//! raft_addLearner / raft_promoteToPeer / raft_removePeer on a running cluster.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn learner_joins_is_promoted_and_a_member_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes = start_cluster(3, tmp.path()).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;
    let early = submit(&nodes[leader], 0..5);
    eventually(10, "early blocks", || early.iter().all(|h| nodes[leader].is_mined(h))).await;

    // A fourth node: an existing member adds it as a learner, then it starts with
    // --raftjoinexisting 4 (its static-nodes.json lists the cluster and itself).
    let (setup, network) = Node::prepare(node_key(), tmp.path().join("n3")).await;
    let url = enode_url(&setup.key, setup.addr);
    // Asked on a follower: the membership change is forwarded to the minter (as GoQuorum).
    let follower = (leader + 1) % 3;
    let id = nodes[follower].handle.add_learner(&url).await.unwrap();
    assert_eq!(id, 4);
    let mut enodes: Vec<String> = nodes.iter().map(Node::enode).collect();
    enodes.push(url.clone());
    write_static_nodes(&setup.dir, &enodes);
    let mut opts = options();
    opts.join_existing = Some(4);
    nodes.push(Node::start(setup, network, opts).await);
    let all: Vec<&Node> = nodes.iter().collect();
    settle(&all, &early, 20).await;
    eventually(10, "the new node is a learner", || nodes[3].handle.role() == "learner").await;
    assert_eq!(nodes[0].handle.get_raft_id(&url).unwrap(), 4);

    // It receives new blocks.
    let leader = wait_leader(&all, 10).await;
    let more = submit(&nodes[leader], 5..10);
    eventually(10, "learner has the new blocks", || more.iter().all(|h| nodes[3].is_mined(h)))
        .await;

    // Promote it.
    assert!(nodes[leader].handle.promote_to_peer(4).await.unwrap());
    eventually(10, "promoted to verifier", || {
        nodes
            .iter()
            .all(|n| n.handle.cluster().iter().any(|c| c.raft_id == 4 && c.role == "verifier"))
    })
    .await;
    // Promoting a voter again is refused with GoQuorum's message.
    let err = nodes[leader].handle.promote_to_peer(4).await.unwrap_err().to_string();
    assert!(err.contains("is not a learner"), "{err}");

    // Remove a member that is not the minter: the cluster shrinks and goes on.
    let leader_id = nodes[leader].handle.raft_id();
    let victim = (0..3).find(|i| *i != leader).unwrap();
    let victim_id = nodes[victim].handle.raft_id();
    nodes[leader].handle.remove_peer(victim_id).await.unwrap();
    eventually(10, "member removed everywhere", || {
        nodes.iter().enumerate().filter(|(i, _)| *i != victim).all(|(_, n)| {
            let ids: Vec<u16> = n.handle.cluster().iter().map(|c| c.raft_id).collect();
            ids.len() == 3 && !ids.contains(&victim_id)
        })
    })
    .await;
    eventually(10, "the removed node knows", || nodes[victim].handle.role().is_empty()).await;
    assert!(nodes[victim].handle.cluster().is_empty());
    let err = nodes[victim].handle.add_peer(&url).await.unwrap_err().to_string();
    assert_eq!(err, "node not part of raft cluster. operations not allowed");

    let removed = nodes.remove(victim);
    removed.stop().await;
    let rest: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&rest, 10).await;
    assert!(nodes[leader].handle.raft_id() == leader_id || leader_id == victim_id);
    let last = submit(&nodes[leader], 10..15);
    eventually(10, "mined by the shrunk cluster", || {
        nodes.iter().all(|n| last.iter().all(|h| n.is_mined(h)))
    })
    .await;
    let rest: Vec<&Node> = nodes.iter().collect();
    settle(&rest, &last, 10).await;
    for n in &nodes {
        assert_eq!(check_chain(n), 15);
    }
    for n in nodes {
        n.stop().await;
    }
}
