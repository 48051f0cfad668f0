//! Bad input gets a 4xx with a reason, and the store stays unchanged.

use eyre::Result;
use serde_json::{Value, json};

use crate::harness::{
    Db, Node, NodeOptions, b64, fresh_postgres_schema, http, path_escape, store_count,
    wait_for_discovery,
};

async fn expect_4xx(resp: reqwest::Response, expected: u16, reason_part: &str) -> Result<()> {
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    assert_eq!(status, expected, "body: {text}");
    assert!(
        text.to_lowercase().contains(&reason_part.to_lowercase()),
        "reason {text:?} should mention {reason_part:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_on_sqlite() -> Result<()> {
    bad_input_is_rejected_with_reasons_and_nothing_is_stored(Db::Sqlite, Db::Sqlite).await
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_on_postgres() -> Result<()> {
    fresh_postgres_schema("qtm_it_bad_a").await?;
    fresh_postgres_schema("qtm_it_bad_b").await?;
    bad_input_is_rejected_with_reasons_and_nothing_is_stored(
        Db::Postgres("qtm_it_bad_a".into()),
        Db::Postgres("qtm_it_bad_b".into()),
    )
    .await
}

async fn bad_input_is_rejected_with_reasons_and_nothing_is_stored(
    db_a: Db,
    db_b: Db,
) -> Result<()> {
    let a = Node::start(NodeOptions { db: db_a, ..NodeOptions::default() }).await?;
    let b =
        Node::start(NodeOptions { db: db_b, peers: vec![a.p2p.clone()], ..NodeOptions::default() })
            .await?;
    wait_for_discovery(&[&a, &b]).await?;
    let before = (store_count(&a).await?, store_count(&b).await?);
    let send = |body: String, ct: Option<&'static str>| {
        let mut req = http().post(format!("{}/send", a.q2t)).body(body);
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        req.send()
    };
    let json_ct = Some("application/json");
    let b_key = b.key().to_string();

    // Malformed base64.
    expect_4xx(
        send(json!({"payload": "not base64!!", "to": [b_key]}).to_string(), json_ct).await?,
        400,
        "base64",
    )
    .await?;
    expect_4xx(
        send(json!({"payload": b64(b"x"), "to": ["AAAA$$"]}).to_string(), json_ct).await?,
        400,
        "base64",
    )
    .await?;
    // Wrong key sizes.
    expect_4xx(
        send(json!({"payload": b64(b"x"), "to": [b64(&[1u8; 31])]}).to_string(), json_ct).await?,
        400,
        "32 bytes",
    )
    .await?;
    expect_4xx(
        send(json!({"payload": b64(b"x"), "from": b64(&[1u8; 33])}).to_string(), json_ct).await?,
        400,
        "32 bytes",
    )
    .await?;
    // Unknown keys: sender not local, recipient unknown in the network.
    expect_4xx(
        send(json!({"payload": b64(b"x"), "from": b64(&[7u8; 32])}).to_string(), json_ct).await?,
        404,
        "not found",
    )
    .await?;
    expect_4xx(
        send(json!({"payload": b64(b"x"), "to": [b64(&[8u8; 32])]}).to_string(), json_ct).await?,
        404,
        "Recipient not found for key",
    )
    .await?;
    // Unknown privacy flags.
    for flag in [4, 7, -1, 1000] {
        expect_4xx(
            send(
                json!({"payload": b64(b"x"), "to": [b_key], "privacyFlag": flag}).to_string(),
                json_ct,
            )
            .await?,
            400,
            "privacy flag",
        )
        .await?;
    }
    // Wrong or missing content type, broken JSON, empty payload, missing payload.
    expect_4xx(
        send(json!({"payload": b64(b"x")}).to_string(), Some("text/plain")).await?,
        415,
        "content-type",
    )
    .await?;
    expect_4xx(send(json!({"payload": b64(b"x")}).to_string(), None).await?, 415, "content-type")
        .await?;
    expect_4xx(send("{\"payload\":".into(), json_ct).await?, 400, "invalid request body").await?;
    expect_4xx(send(json!({"payload": ""}).to_string(), json_ct).await?, 400, "empty").await?;
    expect_4xx(send(json!({"to": [b_key]}).to_string(), json_ct).await?, 400, "payload").await?;

    // /push: truncated, garbage, wrong content type, oversized.
    let good = qrs_enclave::EncodedPayload {
        sender_key: a.key(),
        cipher_text: vec![1; 40],
        cipher_text_nonce: vec![2; 24],
        recipient_boxes: vec![vec![3; 48]],
        recipient_nonce: vec![4; 24],
        recipient_keys: vec![b.key()],
        privacy_mode: qrs_enclave::PrivacyMode::StandardPrivate,
        affected_contract_transactions: Default::default(),
        exec_hash: vec![],
        mandatory_recipients: vec![],
        privacy_group_id: None,
    }
    .encode_legacy();
    let push = |body: Vec<u8>, ct: &'static str| {
        http().post(format!("{}/push", b.p2p)).header("Content-Type", ct).body(body).send()
    };
    expect_4xx(
        push(good[..good.len() / 2].to_vec(), "application/octet-stream").await?,
        400,
        "payload",
    )
    .await?;
    expect_4xx(push(vec![0xff; 64], "application/octet-stream").await?, 400, "payload").await?;
    expect_4xx(push(vec![], "application/octet-stream").await?, 400, "empty").await?;
    expect_4xx(push(good.clone(), "application/json").await?, 415, "content-type").await?;
    let resp = push(vec![0u8; 33 * 1024 * 1024], "application/octet-stream").await?;
    assert_eq!(resp.status().as_u16(), 413);
    // /partyinfo garbage.
    let resp = http()
        .post(format!("{}/partyinfo", b.p2p))
        .header("Content-Type", "application/octet-stream")
        .body(vec![0, 0, 0, 0, 0, 0, 0, 9, 1])
        .send()
        .await?;
    expect_4xx(resp, 400, "partyinfo").await?;

    // Receive: malformed hash → 400, unknown hash → 404, bad `to` → 400.
    expect_4xx(http().get(format!("{}/transaction/abc", a.q2t)).send().await?, 400, "hash").await?;
    let unknown = path_escape(&b64(&[5u8; 64]));
    expect_4xx(
        http().get(format!("{}/transaction/{unknown}", a.q2t)).send().await?,
        404,
        "not found",
    )
    .await?;
    expect_4xx(
        http().get(format!("{}/transaction/{unknown}?to=xyz", a.q2t)).send().await?,
        400,
        "public key",
    )
    .await?;
    expect_4xx(
        http().get(format!("{}/transaction/{unknown}/isSender", a.q2t)).send().await?,
        404,
        "not found",
    )
    .await?;

    // Raw path: short hash body, bad c11n-to, unknown raw hash.
    let resp = http()
        .post(format!("{}/sendsignedtx", a.q2t))
        .header("Content-Type", "application/octet-stream")
        .body(vec![1u8; 10])
        .send()
        .await?;
    expect_4xx(resp, 400, "64").await?;
    let resp = http()
        .post(format!("{}/sendsignedtx", a.q2t))
        .header("Content-Type", "application/octet-stream")
        .header("c11n-to", "short")
        .body(vec![1u8; 64])
        .send()
        .await?;
    expect_4xx(resp, 400, "public key").await?;
    let resp = http()
        .post(format!("{}/sendsignedtx", a.q2t))
        .header("Content-Type", "application/json")
        .body(json!({"hash": b64(&[9u8; 64]), "to": [b_key]}).to_string())
        .send()
        .await?;
    expect_4xx(resp, 404, "not found").await?;
    let resp = http()
        .post(format!("{}/storeraw", a.q2t))
        .header("Content-Type", "application/json")
        .body(json!({"payload": b64(b"x"), "from": b64(&[1u8; 16])}).to_string())
        .send()
        .await?;
    expect_4xx(resp, 400, "32 bytes").await?;

    // Privacy checks: flag 1 with an unknown affected transaction → 403.
    let resp = send(
        json!({"payload": b64(b"x"), "to": [b_key], "privacyFlag": 1, "affectedContractTransactions": [b64(&[6u8; 64])]}).to_string(),
        json_ct,
    )
    .await?;
    expect_4xx(resp, 403, "affectedContractTransaction").await?;
    // Mandatory recipients not among the recipients → 403; MR flag without any → 400.
    let resp = send(
        json!({"payload": b64(b"x"), "to": [b_key], "privacyFlag": 2, "mandatoryRecipients": [b64(&[3u8; 32])]}).to_string(),
        Some("application/vnd.tessera-4.0+json"),
    )
    .await?;
    expect_4xx(resp, 403, "mandatory").await?;
    let resp =
        send(json!({"payload": b64(b"x"), "to": [b_key], "privacyFlag": 2}).to_string(), json_ct)
            .await?;
    expect_4xx(resp, 400, "mandatory").await?;
    // PSV without an execHash → 400.
    let resp =
        send(json!({"payload": b64(b"x"), "to": [b_key], "privacyFlag": 3}).to_string(), json_ct)
            .await?;
    expect_4xx(resp, 400, "execution hash").await?;

    let after = (store_count(&a).await?, store_count(&b).await?);
    assert_eq!(before, after, "bad input must not change the store");

    // Sanity: a good request still works afterwards.
    let resp = send(json!({"payload": b64(b"fine"), "to": [b_key]}).to_string(), json_ct).await?;
    assert_eq!(resp.status().as_u16(), 201);
    let v: Value = resp.json().await?;
    assert!(v["key"].is_string());
    Ok(())
}

/// 404 means "definitely not here": with the database gone, receive answers 5xx, never 404
/// (GoQuorum treats 404 as "not a party" and would silently skip the transaction).
#[tokio::test(flavor = "multi_thread")]
async fn store_outage_is_5xx_never_404() -> Result<()> {
    fresh_postgres_schema("qtm_it_outage_a").await?;
    fresh_postgres_schema("qtm_it_outage_b").await?;
    let a = Node::start(NodeOptions {
        db: Db::Postgres("qtm_it_outage_a".into()),
        ..NodeOptions::default()
    })
    .await?;
    let b = Node::start(NodeOptions {
        db: Db::Postgres("qtm_it_outage_b".into()),
        peers: vec![a.p2p.clone()],
        ..NodeOptions::default()
    })
    .await?;
    wait_for_discovery(&[&a, &b]).await?;
    let hash = crate::harness::send(&a, b"before the outage", &[b.key()]).await?;
    // The database disappears under B.
    let status = std::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c"])
        .arg("SET client_min_messages TO WARNING; DROP SCHEMA qtm_it_outage_b CASCADE;")
        .status()?;
    assert!(status.success());
    for h in [hash.clone(), b64(&[3u8; 64])] {
        let resp = http().get(format!("{}/transaction/{}", b.q2t, path_escape(&h))).send().await?;
        let code = resp.status().as_u16();
        let text = resp.text().await?;
        assert!((500..600).contains(&code), "store outage must be 5xx, got {code}: {text}");
        assert!(text.to_lowercase().contains("store"), "{text}");
    }
    // Pushes to B fail too, so A's send fails and A stores nothing.
    let resp = http()
        .post(format!("{}/send", a.q2t))
        .json(&json!({"payload": b64(b"during the outage"), "to": [b.key()]}))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 502, "{}", resp.text().await?);
    assert_eq!(store_count(&a).await?, 1);
    Ok(())
}
