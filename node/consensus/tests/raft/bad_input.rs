//! Raft messages from outside the cluster: malformed bytes and messages that claim a member's
//! raft id from another key are dropped, the sender is penalised, and the cluster goes on.

use std::time::Duration;

use bytes::Bytes;
use protobuf::Message as _;
use qrs_network::{NetworkConfig, NetworkEvent, PenaltyReason, Topic};
use qrs_raft::raft::prelude::{Message, MessageType};

use crate::harness::*;

async fn expect_penalty(
    events: &mut tokio::sync::mpsc::Receiver<NetworkEvent>,
    who: qrs_network::PeerId,
    what: &str,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no penalty for {what}"))
            .expect("network running");
        if let NetworkEvent::PeerPenalised { peer, reason: PenaltyReason::Application(r), .. } = ev
            && peer == who
        {
            return r.to_string();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outsider_messages_are_dropped_and_penalised() {
    let tmp = tempfile::tempdir().unwrap();
    let nodes = start_cluster(3, tmp.path()).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;
    let leader_before = nodes[leader].handle.status().leader;

    // A stranger (not in static-nodes.json) connects to the minter.
    let stranger_key = node_key();
    let mut cfg = NetworkConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.static_nodes = vec![nodes[leader].network.local_enode()];
    let (stranger, _) = qrs_network::spawn(stranger_key.clone(), cfg).await.unwrap();
    let target = nodes[leader].setup.key.peer_id();
    eventually(10, "stranger connected", || stranger.peers().iter().any(|p| p.peer_id == target))
        .await;
    let mut events = nodes[leader].network.events();

    // Garbage on the Raft topic.
    stranger.send(target, Topic::Raft, Bytes::from_static(&[0xff, 0x01, 0x02])).unwrap();
    let reason = expect_penalty(&mut events, stranger_key.peer_id(), "malformed bytes").await;
    assert!(reason.contains("malformed raft message"), "{reason}");

    // A well-formed vote request that claims to come from raft id 1 (and a huge term, which
    // would depose the leader if it were stepped).
    let follower_id = nodes[(leader + 1) % 3].handle.raft_id();
    let forged = Message {
        msg_type: MessageType::MsgRequestVote,
        from: u64::from(follower_id),
        to: u64::from(nodes[leader].handle.raft_id()),
        term: 1_000_000,
        ..Default::default()
    };
    stranger.send(target, Topic::Raft, Bytes::from(forged.write_to_bytes().unwrap())).unwrap();
    let reason = expect_penalty(&mut events, stranger_key.peer_id(), "forged sender").await;
    assert!(reason.contains("another member's id"), "{reason}");

    // Nothing changed: same minter, and it still mints.
    assert_eq!(nodes[leader].handle.role(), "minter");
    assert_eq!(nodes[leader].handle.status().leader, leader_before);
    let txs = submit(&nodes[leader], 0..3);
    eventually(10, "mined after the attack", || {
        nodes.iter().all(|n| txs.iter().all(|h| n.is_mined(h)))
    })
    .await;
    stranger.shutdown();
    for n in nodes {
        n.stop().await;
    }
}
