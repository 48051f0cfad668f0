//! A wiped node recovers its payloads from its peers with resend ALL (and INDIVIDUAL).

use eyre::Result;
use serde_json::json;

use crate::harness::{Node, NodeOptions, http, receive, send, store_count, wait_for_discovery};

#[tokio::test(flavor = "multi_thread")]
async fn wiped_node_recovers_with_resend_all() -> Result<()> {
    let mut a = Node::start(NodeOptions::default()).await?;
    let b =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    let c =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    wait_for_discovery(&[&a, &b, &c]).await?;

    let from_a = send(&a, b"A to B", &[b.key()]).await?;
    let from_a_to_both = send(&a, b"A to B and C", &[b.key(), c.key()]).await?;
    let from_b = send(&b, b"B to A", &[a.key()]).await?;
    let from_c = send(&c, b"C to A and B", &[a.key(), b.key()]).await?;
    let not_a = send(&b, b"B to C", &[c.key()]).await?;
    assert_eq!(store_count(&a).await?, 4);

    // Wipe A's database and restart it (same keys, same P2P address).
    a.kill();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(a.dir.join(format!("db.sqlite{suffix}")));
    }
    a.restart().await?;
    assert_eq!(store_count(&a).await?, 0);
    assert_eq!(receive(&a, &from_b).await?, None);
    wait_for_discovery(&[&a, &b, &c]).await?;

    // INDIVIDUAL: B hands back the payload for A's key.
    let resp = http()
        .post(format!("{}/resend", b.p2p))
        .json(&json!({"type": "INDIVIDUAL", "publicKey": a.key(), "key": from_b}))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.bytes().await?;
    let payload = qrs_enclave::EncodedPayload::decode_legacy(&body)?;
    assert_eq!(payload.recipient_keys, vec![a.key()]);

    // ALL from every peer.
    for peer in [&b, &c] {
        let resp = http()
            .post(format!("{}/resend", peer.p2p))
            .json(&json!({"type": "ALL", "publicKey": a.key()}))
            .send()
            .await?;
        assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await?);
    }
    assert_eq!(receive(&a, &from_a).await?.as_deref(), Some(&b"A to B"[..]));
    assert_eq!(receive(&a, &from_a_to_both).await?.as_deref(), Some(&b"A to B and C"[..]));
    assert_eq!(receive(&a, &from_b).await?.as_deref(), Some(&b"B to A"[..]));
    assert_eq!(receive(&a, &from_c).await?.as_deref(), Some(&b"C to A and B"[..]));
    assert_eq!(receive(&a, &not_a).await?, None);
    assert_eq!(store_count(&a).await?, 4);

    // A is the sender again for its own transactions, and knows both recipients of the one
    // it sent to B and C (boxes merged from both peers).
    let is_sender = http()
        .get(format!("{}/transaction/{}/isSender", a.q2t, from_a_to_both.replace('/', "%2F")))
        .send()
        .await?
        .text()
        .await?;
    assert_eq!(is_sender, "true");

    // resendBatch answers with the total it pushes.
    let resp = http()
        .post(format!("{}/resendBatch", b.p2p))
        .json(&json!({"publicKey": a.key(), "batchSize": 2}))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().await?;
    // B's index holds A for: A→B, A→B,C (A is the sender) and B→A; C→A,B is C's to resend.
    assert_eq!(v["total"], json!(3));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn wiped_node_recovers_by_itself_with_recover_flag() -> Result<()> {
    let mut a = Node::start(NodeOptions::default()).await?;
    let b =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    let c =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    wait_for_discovery(&[&a, &b, &c]).await?;
    let sent = send(&a, b"A to C", &[c.key()]).await?;
    let received = send(&b, b"B to A and C", &[a.key(), c.key()]).await?;

    a.kill();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(a.dir.join(format!("db.sqlite{suffix}")));
    }
    a.options.extra_args = vec!["--recover".into()];
    a.restart().await?;
    let line = a.last_recovery.clone().unwrap_or_default();
    assert!(line.contains("requests_failed=0") && !line.contains("requests_ok=0"), "{line}");
    assert_eq!(receive(&a, &sent).await?.as_deref(), Some(&b"A to C"[..]));
    assert_eq!(receive(&a, &received).await?.as_deref(), Some(&b"B to A and C"[..]));
    assert_eq!(store_count(&a).await?, 2);
    Ok(())
}
