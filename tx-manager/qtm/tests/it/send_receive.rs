//! Multi-node send/receive, raw send, discovery and restart, on SQLite.

use eyre::Result;
use serde_json::{Value, json};

use crate::harness::{
    Db, Node, NodeOptions, b64, fresh_postgres_schema, http, path_escape, receive, send,
    three_nodes, three_nodes_on, wait_for_discovery,
};

#[tokio::test(flavor = "multi_thread")]
async fn send_receive_raw_and_restart_on_sqlite() -> Result<()> {
    send_receive_raw_and_restart([Db::Sqlite, Db::Sqlite, Db::Sqlite]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn send_receive_raw_and_restart_on_postgres() -> Result<()> {
    let schemas = ["qtm_it_sr_a", "qtm_it_sr_b", "qtm_it_sr_c"];
    for s in schemas {
        fresh_postgres_schema(s).await?;
    }
    send_receive_raw_and_restart(schemas.map(|s| Db::Postgres(s.into()))).await
}

async fn send_receive_raw_and_restart(dbs: [Db; 3]) -> Result<()> {
    let (mut a, mut b, mut c) = three_nodes_on(NodeOptions::default(), dbs).await?;

    // Plain send from A to B: A and B can read it, C gets 404.
    let hash = send(&a, b"hello B", &[b.key()]).await?;
    assert_eq!(receive(&a, &hash).await?.as_deref(), Some(&b"hello B"[..]));
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"hello B"[..]));
    assert_eq!(receive(&c, &hash).await?, None);

    // Enhanced media type answers with senderKey and managedParties.
    let resp = http()
        .get(format!("{}/transaction/{}", b.q2t, path_escape(&hash)))
        .header("Accept", "application/vnd.tessera-2.1+json")
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/vnd.tessera-2.1+json");
    let v: Value = resp.json().await?;
    assert_eq!(v["senderKey"], json!(a.key()));
    assert_eq!(v["managedParties"], json!([b.key()]));
    assert_eq!(v["privacyFlag"], json!(0));

    // isSender / participants.
    let is_sender = |n: &Node| format!("{}/transaction/{}/isSender", n.q2t, path_escape(&hash));
    assert_eq!(http().get(is_sender(&a)).send().await?.text().await?, "true");
    assert_eq!(http().get(is_sender(&b)).send().await?.text().await?, "false");
    let participants = http()
        .get(format!("{}/transaction/{}/participants", a.q2t, path_escape(&hash)))
        .send()
        .await?
        .text()
        .await?;
    assert_eq!(participants, format!("{},{}", b.key(), a.key()));

    // Raw path: /storeraw on A, then /sendsignedtx (JSON and octet-stream) to C.
    let stored: Value = http()
        .post(format!("{}/storeraw", a.q2t))
        .json(&json!({"payload": b64(b"raw for C"), "from": a.key()}))
        .send()
        .await?
        .json()
        .await?;
    let raw_hash = stored["key"].as_str().unwrap_or_default().to_owned();
    let raw = http()
        .get(format!("{}/transaction/{}?isRaw=true", a.q2t, path_escape(&raw_hash)))
        .send()
        .await?;
    assert_eq!(raw.status().as_u16(), 200);
    let resp = http()
        .post(format!("{}/sendsignedtx", a.q2t))
        .header("Content-Type", "application/vnd.tessera-4.0+json")
        .body(json!({"hash": raw_hash, "to": [c.key()], "privacyFlag": 0}).to_string())
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 201);
    let v: Value = resp.json().await?;
    assert_eq!(v["key"].as_str(), Some(raw_hash.as_str()));
    assert_eq!(v["senderKey"], json!(a.key()));
    assert_eq!(receive(&c, &raw_hash).await?.as_deref(), Some(&b"raw for C"[..]));
    assert_eq!(receive(&a, &raw_hash).await?.as_deref(), Some(&b"raw for C"[..]));
    assert_eq!(receive(&b, &raw_hash).await?, None);

    // Octet-stream /sendsignedtx (pre-2.0 GoQuorum) answers 200 text.
    let stored: Value = http()
        .post(format!("{}/storeraw", b.third_party))
        .json(&json!({"payload": b64(b"octet raw")}))
        .send()
        .await?
        .json()
        .await?;
    let raw2 = stored["key"].as_str().unwrap_or_default().to_owned();
    let resp = http()
        .post(format!("{}/sendsignedtx", b.q2t))
        .header("Content-Type", "application/octet-stream")
        .header("c11n-to", c.key().to_string())
        .body(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &raw2)?)
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await?, raw2);
    assert_eq!(receive(&c, &raw2).await?.as_deref(), Some(&b"octet raw"[..]));

    // Every node knows every key.
    for node in [&a, &b, &c] {
        let keys = node.party_keys().await?;
        for k in [a.key(), b.key(), c.key()] {
            assert!(keys.contains(&k), "{} misses {k}", node.p2p);
        }
    }

    // Restart every node (SIGKILL): nothing is lost, and sending still works.
    for node in [&mut a, &mut b, &mut c] {
        node.restart().await?;
    }
    assert_eq!(receive(&a, &hash).await?.as_deref(), Some(&b"hello B"[..]));
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"hello B"[..]));
    assert_eq!(receive(&c, &hash).await?, None);
    assert_eq!(receive(&c, &raw_hash).await?.as_deref(), Some(&b"raw for C"[..]));
    wait_for_discovery(&[&a, &b, &c]).await?;
    let again = send(&c, b"after restart", &[a.key(), b.key()]).await?;
    for node in [&a, &b, &c] {
        assert_eq!(receive(node, &again).await?.as_deref(), Some(&b"after restart"[..]));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn four_nodes_fan_out_and_unreachable_recipient() -> Result<()> {
    let (a, b, c) = three_nodes(NodeOptions::default()).await?;
    let mut d =
        Node::start(NodeOptions { peers: vec![c.p2p.clone()], keys: 2, ..NodeOptions::default() })
            .await?;
    wait_for_discovery(&[&a, &b, &c, &d]).await?;

    // One send to B, C and D's second key.
    let hash = send(&a, b"to many", &[b.key(), c.key(), d.keys[1]]).await?;
    for node in [&a, &b, &c, &d] {
        assert_eq!(receive(node, &hash).await?.as_deref(), Some(&b"to many"[..]));
    }

    // D goes away: a send naming D fails with a reason naming D's node, and stores nothing.
    let d_url = d.p2p.clone();
    let d_key = d.key();
    d.kill();
    let body = json!({"payload": b64(b"never"), "to": [b.key(), d_key]});
    let resp = http().post(format!("{}/send", a.q2t)).json(&body).send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    assert!(status == 410 || status == 404, "unexpected {status}: {text}");
    assert!(text.contains(&d_key.to_string()) || text.contains(&d_url), "{text}");
    // Nothing half-stored: A still holds only the first transaction.
    assert_eq!(crate::harness::store_count(&a).await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn unix_socket_q2t_and_validation_off() -> Result<()> {
    let opts = NodeOptions { unix_q2t: true, validate_keys: Some(false), ..NodeOptions::default() };
    let a = Node::start(opts.clone()).await?;
    let b = Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..opts }).await?;
    wait_for_discovery(&[&a, &b]).await?;
    let socket = a.q2t.strip_prefix("unix:").unwrap_or_default().to_owned();
    let (status, body) = crate::harness::unix_request(&socket, "GET", "/upcheck", &[], b"").await?;
    assert_eq!((status, body.as_slice()), (200, &b"I'm up!"[..]));
    let req = json!({"payload": b64(b"over ipc"), "to": [b.key()]}).to_string();
    let (status, body) = crate::harness::unix_request(
        &socket,
        "POST",
        "/send",
        &[("Content-Type", "application/json")],
        req.as_bytes(),
    )
    .await?;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body)?;
    let hash = v["key"].as_str().unwrap_or_default().to_owned();
    let (status, body) = crate::harness::unix_request(
        &socket,
        "GET",
        &format!("/transaction/{}", path_escape(&hash)),
        &[],
        b"",
    )
    .await?;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body)?;
    assert_eq!(v["payload"].as_str(), Some(b64(b"over ipc").as_str()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_on_one_postgres_serve_each_others_payloads() -> Result<()> {
    fresh_postgres_schema("qtm_it_shared").await?;
    fresh_postgres_schema("qtm_it_shared_b").await?;
    let shared = Db::Postgres("qtm_it_shared".into());
    let a1 = Node::start(NodeOptions { db: shared.clone(), ..NodeOptions::default() }).await?;
    let keys = a1.options.key_prefixes.clone();
    let a2 = Node::start(NodeOptions {
        db: shared,
        key_prefixes: keys,
        peers: vec![a1.p2p.clone()],
        ..NodeOptions::default()
    })
    .await?;
    let b = Node::start(NodeOptions {
        db: Db::Postgres("qtm_it_shared_b".into()),
        peers: vec![a1.p2p.clone()],
        ..NodeOptions::default()
    })
    .await?;
    wait_for_discovery(&[&a1, &b]).await?;
    wait_for_discovery(&[&a2, &b]).await?;
    // Sent through one process, readable through the other.
    let hash = send(&a1, b"shared db", &[b.key()]).await?;
    assert_eq!(receive(&a2, &hash).await?.as_deref(), Some(&b"shared db"[..]));
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"shared db"[..]));
    // Pushed to whichever process B routes to; both read it.
    let hash = send(&b, b"to A", &[a1.key()]).await?;
    assert_eq!(receive(&a1, &hash).await?.as_deref(), Some(&b"to A"[..]));
    assert_eq!(receive(&a2, &hash).await?.as_deref(), Some(&b"to A"[..]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_recipient_triggers_immediate_party_info_refresh() -> Result<()> {
    // Broadcasts every 10 minutes: only the first (at start) happens during the test.
    let slow = NodeOptions { party_info_interval_ms: 600_000, ..NodeOptions::default() };
    let b = Node::start(slow.clone()).await?;
    // A knows B's URL; A's start-up broadcast teaches B A's key, but B has no reason to tell
    // A its own key before its next broadcast in 10 minutes.
    let a = Node::start(NodeOptions { peers: vec![b.p2p.clone()], ..slow }).await?;
    let known = a.party_keys().await?;
    assert!(!known.contains(&b.key()), "A should not know B's key yet");
    let hash = send(&a, b"refresh first", &[b.key()]).await?;
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"refresh first"[..]));
    assert!(a.party_keys().await?.contains(&b.key()));
    Ok(())
}
