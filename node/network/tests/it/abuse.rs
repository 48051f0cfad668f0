//! Oversized messages are dropped and the sender penalised, then banned.

use std::time::Duration;

use bytes::Bytes;
use qrs_network::{NetworkError, NetworkEvent, NodeKey, PenaltyReason, Topic};

use crate::common::{config, eventually, next_matching, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_message_is_dropped_and_sender_penalised() {
    let mut c = config();
    c.max_message_bytes = 1024;
    c.max_strikes = 2;
    c.ban_duration = Duration::from_secs(60);
    let strict = start(NodeKey::generate(), c).await;
    let mut events = strict.handle.events();

    // The sender allows bigger messages than the receiver (misconfigured or malicious).
    let mut c = config();
    c.static_nodes = vec![strict.enode.clone()];
    let sender = start(NodeKey::generate(), c).await;
    eventually("connected", || strict.handle.peers().len() == 1).await;
    let from = sender.key.peer_id();

    // Local limit: refused before it hits the wire.
    assert!(matches!(
        strict.handle.broadcast(Topic::Consensus, Bytes::from(vec![0; 1025])),
        Err(NetworkError::MessageTooLarge { size: 1025, limit: 1024 })
    ));

    sender
        .handle
        .send(strict.key.peer_id(), Topic::Transactions, Bytes::from(vec![7; 4096]))
        .unwrap();
    let (reason, strikes, banned) = next_matching(&mut events, |ev| match ev {
        NetworkEvent::Message { topic: Topic::Transactions, .. } => {
            panic!("oversized message delivered")
        }
        NetworkEvent::PeerPenalised { peer, reason, strikes, banned } if peer == from => {
            Some((reason, strikes, banned))
        }
        _ => None,
    })
    .await;
    assert_eq!(reason, PenaltyReason::Oversized { size: 4096, limit: 1024 });
    assert_eq!((strikes, banned), (1, false));
    assert_eq!(strict.handle.peers()[0].strikes, 1);

    // A normal message still goes through on a fresh stream (once the sender has seen the reset).
    tokio::time::sleep(Duration::from_millis(200)).await;
    sender.handle.send(strict.key.peer_id(), Topic::Consensus, Bytes::from_static(b"ok")).unwrap();
    let got = next_matching(&mut events, |ev| match ev {
        NetworkEvent::Message { from, topic: Topic::Consensus, bytes } => Some((from, bytes)),
        _ => None,
    })
    .await;
    assert_eq!(got, (from, Bytes::from_static(b"ok")));

    // Second strike: banned and disconnected; the sender's re-dials are refused.
    sender
        .handle
        .send(strict.key.peer_id(), Topic::BlockAnnounce, Bytes::from(vec![1; 2000]))
        .unwrap();
    let banned = next_matching(&mut events, |ev| match ev {
        NetworkEvent::PeerPenalised { peer, banned, strikes, .. } if peer == from => {
            Some((strikes, banned))
        }
        _ => None,
    })
    .await;
    assert_eq!(banned, (2, true));
    eventually("banned peer disconnected", || strict.handle.peers().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(strict.handle.peers().is_empty(), "banned peer must stay out");

    // The node can penalise too (e.g. an invalid transaction batch).
    strict.handle.penalise(from, PenaltyReason::Application("invalid tx batch".into()));
    next_matching(&mut events, |ev| match ev {
        NetworkEvent::PeerPenalised { reason: PenaltyReason::Application(r), .. } => Some(r),
        _ => None,
    })
    .await;
}
