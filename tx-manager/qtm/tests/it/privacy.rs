//! Privacy flags 1–3 end to end (Tessera's checks), plus the remaining Q2T endpoints:
//! delete, encodedpayload create/decrypt, sendraw/receiveraw, groups.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use eyre::{Result, bail};
use serde_json::{Value, json};

use crate::harness::{
    Node, NodeOptions, b64, http, path_escape, receive, three_nodes, wait_for_discovery,
};

async fn send_json(from: &Node, body: Value) -> Result<(u16, String)> {
    let resp = http()
        .post(format!("{}/send", from.q2t))
        .header("Content-Type", "application/vnd.tessera-4.0+json")
        .body(body.to_string())
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await?))
}

async fn sent_key(from: &Node, body: Value) -> Result<String> {
    let (status, text) = send_json(from, body).await?;
    if status != 201 {
        bail!("send failed {status}: {text}");
    }
    let v: Value = serde_json::from_str(&text)?;
    Ok(v["key"].as_str().unwrap_or_default().to_owned())
}

async fn get_json(node: &Node, hash: &str) -> Result<Value> {
    Ok(http()
        .get(format!("{}/transaction/{}", node.q2t, path_escape(hash)))
        .header("Accept", "application/vnd.tessera-2.1+json")
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn privacy_flags_end_to_end() -> Result<()> {
    let (a, b, c) = three_nodes(NodeOptions::default()).await?;
    let exec = b64(&[0x42; 32]);

    // PSV: a contract, then a call affecting it with the same participants.
    let tx1 = sent_key(
        &a,
        json!({"payload": b64(b"psv deploy"), "to": [b.key()], "privacyFlag": 3, "execHash": exec}),
    )
    .await?;
    let tx2 = sent_key(
        &a,
        json!({"payload": b64(b"psv call"), "to": [b.key()], "privacyFlag": 3, "execHash": exec, "affectedContractTransactions": [tx1]}),
    )
    .await?;
    let got = get_json(&b, &tx2).await?;
    assert_eq!(got["privacyFlag"], json!(3));
    assert_eq!(got["execHash"], json!(exec));
    assert_eq!(got["affectedContractTransactions"], json!([tx1]));
    assert_eq!(got["payload"], json!(b64(b"psv call")));
    // Different participants → 403.
    let (status, text) = send_json(
        &a,
        json!({"payload": b64(b"x"), "to": [b.key(), c.key()], "privacyFlag": 3, "execHash": exec, "affectedContractTransactions": [tx1]}),
    )
    .await?;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("Recipients mismatched"), "{text}");
    // Flag differs from the affected transaction's → 403.
    let (status, text) = send_json(
        &a,
        json!({"payload": b64(b"x"), "to": [b.key()], "privacyFlag": 1, "affectedContractTransactions": [tx1]}),
    )
    .await?;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("Privacy metadata mismatched"), "{text}");

    // Party protection.
    let pp =
        sent_key(&b, json!({"payload": b64(b"pp"), "to": [a.key()], "privacyFlag": 1})).await?;
    assert_eq!(get_json(&a, &pp).await?["privacyFlag"], json!(1));

    // Mandatory recipients: the /mandatory endpoint lists them on every party.
    let mr = sent_key(
        &a,
        json!({"payload": b64(b"mr"), "to": [b.key(), c.key()], "privacyFlag": 2, "mandatoryRecipients": [b.key()]}),
    )
    .await?;
    for node in [&a, &b, &c] {
        let text = http()
            .get(format!("{}/transaction/{}/mandatory", node.q2t, path_escape(&mr)))
            .send()
            .await?
            .text()
            .await?;
        assert_eq!(text, b.key().to_string());
    }
    let resp =
        http().get(format!("{}/transaction/{}/mandatory", a.q2t, path_escape(&pp))).send().await?;
    // Not a mandatory-recipients transaction: a 4xx with the reason (Tessera's
    // MandatoryRecipientsNotAvailableException).
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await?.contains("not a mandatory recipients transaction"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_encoded_payload_raw_and_groups() -> Result<()> {
    let a = Node::start(NodeOptions::default()).await?;
    let b =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    wait_for_discovery(&[&a, &b]).await?;

    // /sendraw + /receiveraw (Constellation-era headers).
    let resp = http()
        .post(format!("{}/sendraw", a.q2t))
        .header("Content-Type", "application/octet-stream")
        .header("c11n-from", a.key().to_string())
        .header("c11n-to", b.key().to_string())
        .body(b"raw bytes".to_vec())
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let hash = resp.text().await?;
    let resp = http().get(format!("{}/receiveraw", b.q2t)).header("c11n-key", &hash).send().await?;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.bytes().await?.as_ref(), b"raw bytes");

    // DELETE /transaction/{hash} → 204, then 404; POST /delete → 200 text.
    let resp =
        http().delete(format!("{}/transaction/{}", b.q2t, path_escape(&hash))).send().await?;
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(receive(&b, &hash).await?, None);
    let resp = http().post(format!("{}/delete", a.q2t)).json(&json!({"key": hash})).send().await?;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await?, "Delete successful");
    let resp = http().post(format!("{}/delete", a.q2t)).json(&json!({"key": hash})).send().await?;
    assert_eq!(resp.status().as_u16(), 404);

    // /encodedpayload/create (nothing stored, nothing sent) then /decrypt on the recipient.
    let resp = http()
        .post(format!("{}/encodedpayload/create", a.q2t))
        .json(&json!({"payload": b64(b"extension"), "to": [b.key()]}))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let encrypted: Value = resp.json().await?;
    assert_eq!(encrypted["recipientKeys"], json!([b.key(), a.key()]));
    assert_eq!(encrypted["senderKey"], json!(a.key()));
    let ct = STANDARD.decode(encrypted["cipherText"].as_str().unwrap_or_default())?;
    let hash = b64(&qrs_enclave::MessageHash::of_cipher_text(&ct).0);
    assert_eq!(receive(&a, &hash).await?, None, "create stores nothing");
    for node in [&b, &a] {
        let resp = http()
            .post(format!("{}/encodedpayload/decrypt", node.q2t))
            .json(&encrypted)
            .send()
            .await?;
        assert_eq!(resp.status().as_u16(), 200);
        let v: Value = resp.json().await?;
        assert_eq!(v["payload"], json!(b64(b"extension")));
    }

    // Groups: resident without multiple private states → 503, legacy → [].
    let resp = http().get(format!("{}/groups/resident", a.q2t)).send().await?;
    assert_eq!(resp.status().as_u16(), 503);
    let resp = http().get(format!("{}/groups/legacy", a.q2t)).send().await?;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.json::<Value>().await?, json!([]));
    Ok(())
}
