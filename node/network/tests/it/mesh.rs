//! Four nodes from static lists: full mesh, broadcast of a transaction batch, direct send, re-dial.

use std::collections::HashSet;

use bytes::Bytes;
use qrs_network::{NetworkEvent, NodeKey, Topic, decode_tx_batch, encode_tx_batch};

use crate::common::{Node, config, eventually, next_matching, start};

async fn four_nodes() -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for _ in 0..4 {
        let mut c = config();
        // Each node lists the nodes started before it, like a growing static-nodes.json.
        c.static_nodes = nodes.iter().map(|n| n.enode.clone()).collect();
        nodes.push(start(NodeKey::generate(), c).await);
    }
    for n in &nodes {
        eventually("full mesh", || n.handle.peers().len() == 3).await;
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_connect_and_broadcast_batches() {
    let nodes = four_nodes().await;
    for n in &nodes {
        let seen: HashSet<[u8; 64]> =
            n.handle.peers().iter().map(|p| p.enode_id.unwrap()).collect();
        let expected: HashSet<[u8; 64]> = nodes
            .iter()
            .filter(|o| o.key.peer_id() != n.key.peer_id())
            .map(|o| o.key.enode_id())
            .collect();
        assert_eq!(seen, expected);
    }

    let mut receivers: Vec<_> = nodes.iter().map(|n| n.handle.events()).collect();
    let txs: Vec<Bytes> =
        (0..500u32).map(|i| Bytes::from(vec![(i % 251) as u8; 120 + (i as usize % 50)])).collect();
    let queued = nodes[0].handle.broadcast(Topic::Transactions, encode_tx_batch(&txs)).unwrap();
    assert_eq!(queued, 3);
    for (i, rx) in receivers.iter_mut().enumerate().skip(1) {
        let (from, bytes) = next_matching(rx, |ev| match ev {
            NetworkEvent::Message { from, topic: Topic::Transactions, bytes } => {
                Some((from, bytes))
            }
            _ => None,
        })
        .await;
        assert_eq!(from, nodes[0].key.peer_id(), "node {i}");
        assert_eq!(decode_tx_batch(bytes).unwrap(), txs);
    }

    // A direct consensus message reaches only its target.
    let target = nodes[2].key.peer_id();
    nodes[3].handle.send(target, Topic::Consensus, Bytes::from_static(b"prepare")).unwrap();
    let got = next_matching(&mut receivers[2], |ev| match ev {
        NetworkEvent::Message { from, topic: Topic::Consensus, bytes } => Some((from, bytes)),
        _ => None,
    })
    .await;
    assert_eq!(got, (nodes[3].key.peer_id(), Bytes::from_static(b"prepare")));

    // Shutting a node down is seen by the others.
    let gone = nodes[1].key.peer_id();
    nodes[1].handle.shutdown();
    next_matching(&mut receivers[0], |ev| {
        matches!(ev, NetworkEvent::PeerDisconnected(p) if p == gone).then_some(())
    })
    .await;
    eventually("peer removed", || nodes[0].handle.peers().len() == 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_peer_is_redialled_until_it_comes_up() {
    // Reserve a port (below the ephemeral range, so nothing else takes it) and list a node there
    // before it runs.
    let port = qrs_e2e::ports::free_port().unwrap();
    let late_key = NodeKey::generate();
    let mut late_enode = qrs_network::Enode::parse(&format!(
        "enode://{}@127.0.0.1:{port}?discport=0",
        hex::encode(late_key.enode_id())
    ))
    .unwrap();
    let mut c = config();
    c.static_nodes = vec![late_enode.clone()];
    let early = start(NodeKey::generate(), c).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(early.handle.peers().is_empty());

    let mut c = config();
    c.listen = format!("127.0.0.1:{port}").parse().unwrap();
    let late = start(late_key, c).await;
    late_enode.port = late.enode.port;
    eventually("early node re-dials the late one", || early.handle.peers().len() == 1).await;
    assert!(!early.handle.peers()[0].inbound);
    assert_eq!(late.handle.peers()[0].peer_id, early.key.peer_id());

    // remove_peer disconnects and stops re-dialling.
    early.handle.remove_peer(&late_enode).unwrap();
    eventually("removed", || early.handle.peers().is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(early.handle.peers().is_empty(), "removed peer must not be re-dialled");
}
