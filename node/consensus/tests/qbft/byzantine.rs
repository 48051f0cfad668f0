//! Byzantine peers: a validator that equivocates (conflicting PREPAREs and COMMITs for every
//! height and round) neither stops nor forks the chain; messages signed by a non-validator are
//! dropped and their sender penalised.

use std::time::Duration;

use alloy_primitives::{Address, B256, keccak256};
use qrs_consensus::qbft::wire::encode_frame;
use qrs_network::{NetworkConfig, NetworkEvent, NetworkHandle, NodeKey, Topic};
use qrs_qbft::{
    ValidatorKey,
    messages::{Commit, Message, Prepare, View},
};

use crate::harness::{Node, eventually, genesis, node_key};

async fn bare_network(key: &NodeKey, peers: &[qrs_network::Enode]) -> NetworkHandle {
    let mut cfg = NetworkConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.dial_backoff_initial = Duration::from_millis(50);
    cfg.static_nodes = peers.to_vec();
    qrs_network::spawn(key.clone(), cfg).await.unwrap().0
}

fn send(net: &NetworkHandle, msg: Message<qrs_qbft::RawBlock>) {
    let _ = net.broadcast(Topic::Consensus, encode_frame(msg.code(), &msg.encode_payload()));
}

fn validator_key(key: &NodeKey) -> ValidatorKey {
    ValidatorKey::from_bytes(&key.secret_bytes()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equivocating_validator_neither_stops_nor_forks_the_chain() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let spec = genesis(&validators);
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..3 {
        let peers: Vec<_> = nodes.iter().map(Node::enode).collect();
        nodes.push(
            Node::start(node_key(i), tmp.path().join(format!("n{i}")), spec.clone(), &peers).await,
        );
    }
    // Validator 3 runs no engine: its key only signs conflicting messages.
    let byz_key = node_key(3);
    let peers: Vec<_> = nodes.iter().map(Node::enode).collect();
    let byz_net = bare_network(&byz_key, &peers).await;
    let byz = validator_key(&byz_key);
    eventually(20, "byzantine peer connected", || byz_net.num_connected_peers() == 3).await;

    let start = nodes[0].head().0;
    let target = start + 6;
    let mut events = nodes[0].network.events();
    let mut forged = 0u64;
    eventually(90, "6 blocks despite the equivocator", || {
        let height = nodes.iter().map(|n| n.head().0).min().unwrap() + 1;
        for round in 0..3 {
            for seq in [height, height + 1] {
                let view = View { sequence: seq, round };
                for _ in 0..2 {
                    forged += 1;
                    let digest = keccak256(forged.to_be_bytes());
                    send(&byz_net, Message::Prepare(Prepare::signed(&byz, view, digest)));
                    let seal = byz.sign_digest(&digest);
                    send(&byz_net, Message::Commit(Commit::signed(&byz, view, digest, seal)));
                }
            }
        }
        nodes.iter().all(|n| n.head().0 >= target)
    })
    .await;
    // The forgeries are signed by a validator, so they cost the peer nothing; the chain agrees.
    let upto = nodes.iter().map(|n| n.head().0).min().unwrap();
    for n in 1..=upto {
        let hashes: Vec<_> = nodes
            .iter()
            .map(|node| node.chain.reader().unwrap().canonical_hash(n).unwrap())
            .collect();
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "fork at {n}: {hashes:?}");
        let header = nodes[0].chain.reader().unwrap().header(n).unwrap().unwrap();
        let committers = qrs_qbft::seal::qbft_committers(&header).unwrap();
        assert!(!committers.contains(&byz.address()), "block {n} carries a forged seal");
    }
    while let Ok(ev) = events.try_recv() {
        if let NetworkEvent::PeerPenalised { peer, .. } = ev {
            assert_ne!(peer, byz_key.peer_id(), "well-formed validator messages are not penalised");
        }
    }
    byz_net.shutdown();
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_a_non_validator_are_dropped_and_penalised() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let (nodes, _tmp) = crate::harness::start_network(4, &validators).await;
    let stranger_key = node_key(9);
    let peers: Vec<_> = nodes.iter().map(Node::enode).collect();
    let stranger = bare_network(&stranger_key, &peers).await;
    let signer = validator_key(&stranger_key);
    eventually(20, "stranger connected", || stranger.num_connected_peers() == 4).await;
    let mut events = nodes[0].network.events();

    // Well-signed PREPAREs for the height being decided, by a key outside the validator set.
    let peer = stranger_key.peer_id();
    let height = || nodes[0].head().0 + 1;
    let reason = penalty(&mut events, peer, || {
        let view = View { sequence: height(), round: 0 };
        send(&stranger, Message::Prepare(Prepare::signed(&signer, view, B256::repeat_byte(7))));
    })
    .await;
    assert!(reason.contains("non-validator"), "{reason}");
    // A frame whose payload does not decode.
    let reason = penalty(&mut events, peer, || {
        let _ = stranger.broadcast(Topic::Consensus, vec![0x13, 0xff, 0x00].into());
    })
    .await;
    assert!(reason.contains("qbft") && !reason.contains("non-validator"), "{reason}");
    let before = nodes[0].head().0;
    eventually(30, "blocks continue", || nodes.iter().all(|n| n.head().0 >= before + 2)).await;
    stranger.shutdown();
    for n in nodes {
        n.stop().await;
    }
}

/// Repeats `act` until `peer` is penalised; returns the penalty's reason.
async fn penalty(
    events: &mut tokio::sync::mpsc::Receiver<NetworkEvent>,
    peer: qrs_network::PeerId,
    mut act: impl FnMut(),
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no penalty for {peer}");
        act();
        let wait = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                match events.recv().await {
                    Some(NetworkEvent::PeerPenalised { peer: p, reason, .. }) if p == peer => {
                        return Some(format!("{reason:?}"));
                    }
                    Some(_) => {}
                    None => return None,
                }
            }
        });
        if let Ok(Some(reason)) = wait.await {
            return reason;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposal_with_a_wrong_state_root_is_refused_and_penalised() {
    use qrs_qbft::{
        ProposerPolicy, RawBlock, ValidatorSet, header::prepare_qbft_header, messages::Preprepare,
    };
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let spec = genesis(&validators);
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..3 {
        let peers: Vec<_> = nodes.iter().map(Node::enode).collect();
        let dir = tmp.path().join(format!("n{i}"));
        nodes.push(Node::start(node_key(i), dir, spec.clone(), &peers).await);
    }
    // Validator 3 proposes, whenever it is its turn, a block whose state root is wrong.
    let byz_key = node_key(3);
    let peers: Vec<_> = nodes.iter().map(Node::enode).collect();
    let byz_net = bare_network(&byz_key, &peers).await;
    let byz = validator_key(&byz_key);
    eventually(20, "byzantine peer connected", || byz_net.num_connected_peers() == 3).await;
    let mut events = nodes[0].network.events();

    let start = nodes[0].head().0;
    let mut sent = 0;
    eventually(90, "6 blocks despite bad proposals", || {
        let head = nodes[0].chain.head();
        let last = if head.header.number == 0 { Address::ZERO } else { head.header.beneficiary };
        let set = ValidatorSet::qbft(validators.iter().copied(), ProposerPolicy::RoundRobin);
        for round in 0..4u64 {
            if set.proposer(last, round) != Some(byz.address()) {
                continue;
            }
            let mut header = alloy_consensus::Header {
                parent_hash: head.hash,
                number: head.header.number + 1,
                gas_limit: head.header.gas_limit,
                state_root: B256::repeat_byte(0xbd),
                receipts_root: alloy_consensus::constants::EMPTY_ROOT_HASH,
                transactions_root: alloy_consensus::constants::EMPTY_ROOT_HASH,
                ..Default::default()
            };
            let now = qrs_chain::now_secs();
            prepare_qbft_header(
                &mut header,
                byz.address(),
                head.header.timestamp,
                1,
                now,
                &validators,
                None,
            )
            .unwrap();
            let view = View { sequence: header.number, round };
            let pp = Preprepare::signed(&byz, view, RawBlock::empty(header), vec![], vec![]);
            send(&byz_net, Message::Preprepare(pp));
            sent += 1;
        }
        nodes.iter().all(|n| n.head().0 >= start + 6)
    })
    .await;
    assert!(sent > 0, "validator 3 never had a turn");
    let upto = nodes.iter().map(|n| n.head().0).min().unwrap();
    for n in 1..=upto {
        let hashes: Vec<_> = nodes
            .iter()
            .map(|node| node.chain.reader().unwrap().canonical_hash(n).unwrap())
            .collect();
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "fork at {n}: {hashes:?}");
        let header = nodes[0].chain.reader().unwrap().header(n).unwrap().unwrap();
        assert_ne!(header.beneficiary, byz.address(), "block {n} is the bad proposal");
    }
    let mut penalised = false;
    while let Ok(ev) = events.try_recv() {
        if let NetworkEvent::PeerPenalised { peer, reason, .. } = ev {
            penalised |=
                peer == byz_key.peer_id() && format!("{reason:?}").contains("invalid proposal");
        }
    }
    assert!(penalised, "the proposer of an invalid block is penalised");
    byz_net.shutdown();
    for n in nodes {
        n.stop().await;
    }
}
