//! `--permissioned`: a node outside permissioned-nodes.json is refused inbound and outbound.

use std::time::Duration;

use qrs_network::{NetworkError, NodeKey, Permissions};

use crate::common::{config, eventually, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissioned_node_refuses_unlisted_peer_both_ways() {
    let a_key = NodeKey::generate();
    let b_key = NodeKey::generate();
    let stranger_key = NodeKey::generate();
    let a_id = qrs_network::Enode {
        id: a_key.enode_id(),
        host: "127.0.0.1".into(),
        port: 1,
        raft_port: None,
        discport: None,
    };
    let b_id = qrs_network::Enode { id: b_key.enode_id(), ..a_id.clone() };

    // A allows only B (and itself).
    let mut c = config();
    c.permissioned = Some(Permissions::new(&[a_id.clone(), b_id.clone()], &[]));
    let a = start(a_key, c).await;

    // B is listed: it connects.
    let mut c = config();
    c.static_nodes = vec![a.enode.clone()];
    let b = start(b_key, c).await;
    eventually("listed peer connects", || {
        a.handle.peers().len() == 1 && b.handle.peers().len() == 1
    })
    .await;

    // Inbound: the stranger dials A and is dropped after the noise handshake.
    let mut c = config();
    c.static_nodes = vec![a.enode.clone()];
    let stranger = start(stranger_key, c).await;
    // A never admits the stranger, however often it re-dials (sampled for 800 ms) ...
    let deadline = tokio::time::Instant::now() + Duration::from_millis(800);
    while tokio::time::Instant::now() < deadline {
        assert!(
            a.handle.peers().iter().all(|p| p.peer_id != stranger.key.peer_id()),
            "A admitted an unlisted peer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... and the stranger's connection attempts are torn down (it may be mid-re-dial at any
    // single instant, so wait for a moment when it holds no connection).
    eventually("stranger is dropped", || stranger.handle.peers().is_empty()).await;
    assert_eq!(a.handle.peers().len(), 1);
    assert_eq!(a.handle.peers()[0].peer_id, b.key.peer_id());

    // Outbound: A refuses to add the stranger (GoQuorum: admin_addPeer is subject to the check).
    let err = a.handle.add_peer(stranger.enode.clone()).unwrap_err();
    assert!(matches!(err, NetworkError::NotPermitted(p) if p == stranger.key.peer_id()));
    // A disallowed-nodes.json entry wins over the allow list: a node that allows B but also
    // disallows it never connects to B.
    let mut c = config();
    c.permissioned =
        Some(Permissions::new(std::slice::from_ref(&b_id), std::slice::from_ref(&b_id)));
    c.static_nodes = vec![b.enode.clone()];
    let denier = start(NodeKey::generate(), c).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(denier.handle.peers().is_empty());
    assert_eq!(b.handle.peers().len(), 1, "B only sees A");

    // Missing permissioned-nodes.json = deny all.
    let mut c = config();
    c.permissioned = Some(
        Permissions::load("/nonexistent/permissioned-nodes.json", "/nonexistent/d.json").unwrap(),
    );
    c.static_nodes = vec![a.enode.clone(), b.enode.clone()];
    let lonely = start(NodeKey::generate(), c).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(lonely.handle.peers().is_empty());
}

/// A node added to `permissioned-nodes.json` while the network runs is admitted once
/// `admin_addPeer` names it: the node re-reads the file, dials it, and accepts its inbound dials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_peer_rereads_permissioned_nodes_json() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("permissioned-nodes.json");
    let write = |enodes: &[&qrs_network::Enode]| {
        let list: Vec<String> = enodes.iter().map(ToString::to_string).collect();
        std::fs::write(&file, serde_json::to_string(&list).unwrap()).unwrap();
    };
    let a_key = NodeKey::generate();
    let a_enode = qrs_network::Enode {
        id: a_key.enode_id(),
        host: "127.0.0.1".into(),
        port: 1,
        raft_port: None,
        discport: None,
    };
    write(&[&a_enode]);
    let mut c = config();
    c.permissioned =
        Some(Permissions::load(&file, tmp.path().join("disallowed-nodes.json")).unwrap());
    let a = start(a_key, c).await;

    // the newcomer dials A (inbound for A) and is refused while the file does not list it
    let mut c = config();
    c.static_nodes = vec![a.enode.clone()];
    let newcomer = start(NodeKey::generate(), c).await;
    let err = a.handle.add_peer(newcomer.enode.clone()).unwrap_err();
    assert!(matches!(err, NetworkError::NotPermitted(p) if p == newcomer.key.peer_id()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(a.handle.peers().is_empty(), "A admitted an unlisted peer");

    // listed in the file: admin_addPeer re-reads it and the two connect
    write(&[&a_enode, &newcomer.enode]);
    a.handle.add_peer(newcomer.enode.clone()).unwrap();
    eventually("the newly listed peer connects", || {
        a.handle.peers().iter().any(|p| p.peer_id == newcomer.key.peer_id())
    })
    .await;

    // a peer still missing from the re-read file stays refused
    let stranger = start(NodeKey::generate(), config()).await;
    let err = a.handle.add_peer(stranger.enode.clone()).unwrap_err();
    assert!(matches!(err, NetworkError::NotPermitted(_)));

    // an in-memory set (no files) never admits more
    let mut c = config();
    c.permissioned = Some(Permissions::new(&[], &[]));
    let fixed = start(NodeKey::generate(), c).await;
    assert!(matches!(
        fixed.handle.add_peer(newcomer.enode.clone()).unwrap_err(),
        NetworkError::NotPermitted(_)
    ));
}
