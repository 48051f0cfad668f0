//! `POST /receiveBatch` (qtm's extension for a node fetching a block's payloads): the same
//! answers as one `GET /transaction/{hash}` per hash, in order, `null` for a 404, and clear
//! 400s for bad requests.

use eyre::Result;
use serde_json::{Value, json};

use crate::harness::{Node, NodeOptions, b64, http, receive, send, three_nodes};

async fn batch(node: &Node, media: &str, body: &Value) -> Result<(u16, Value)> {
    let resp = http()
        .post(format!("{}/receiveBatch", node.q2t))
        .header("content-type", media)
        .body(body.to_string())
        .send()
        .await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

#[tokio::test(flavor = "multi_thread")]
async fn receive_batch_answers_like_single_receives_in_order() -> Result<()> {
    let (a, b, c) = three_nodes(NodeOptions::default()).await?;
    let for_b = send(&a, b"for b", &[b.key()]).await?;
    let for_c = send(&a, b"for c", &[c.key()]).await?;
    let unknown = b64(&[9u8; 64]);

    let asked = json!({ "hashes": [for_c, for_b, unknown, for_b] });
    let (status, answer) = batch(&b, "application/json", &asked).await?;
    assert_eq!(status, 200, "{answer}");
    let payloads = answer["payloads"].as_array().expect("payloads");
    assert_eq!(payloads.len(), 4);
    assert!(payloads[0].is_null(), "B is no party to A→C: {answer}");
    assert_eq!(payloads[1]["payload"], b64(b"for b"));
    assert!(payloads[2].is_null(), "unknown hash");
    assert_eq!(payloads[3], payloads[1], "a hash asked twice is answered twice");
    // the single receive agrees
    assert_eq!(receive(&b, &for_b).await?.as_deref(), Some(&b"for b"[..]));
    assert_eq!(receive(&b, &for_c).await?, None);
    // plain JSON leaves out the enhanced fields; vnd.tessera-2.1 adds them, as the single
    // receive does
    assert!(payloads[1].get("managedParties").is_none(), "{answer}");
    let (status, enhanced) = batch(&b, "application/vnd.tessera-2.1+json", &asked).await?;
    assert_eq!(status, 200);
    assert_eq!(enhanced["payloads"][1]["managedParties"], json!([b.key()]));
    assert_eq!(enhanced["payloads"][1]["senderKey"], json!(a.key()));
    // the sender reads both
    let (_, at_a) = batch(&a, "application/json", &asked).await?;
    assert_eq!(at_a["payloads"][0]["payload"], b64(b"for c"));
    assert_eq!(at_a["payloads"][1]["payload"], b64(b"for b"));
    let (status, empty) = batch(&a, "application/json", &json!({ "hashes": [] })).await?;
    assert_eq!((status, empty), (200, json!({ "payloads": [] })));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn receive_batch_refuses_bad_requests_with_a_reason() -> Result<()> {
    let a = Node::start(NodeOptions::default()).await?;
    let json = "application/json";
    let too_many: Vec<String> = (0..10_001).map(|_| b64(&[1u8; 64])).collect();
    for (body, reason) in [
        (json!({ "hashes": too_many }), "At most 10000 hashes"),
        (json!({ "hashes": ["not base64!"] }), "Invalid request body"),
        (json!({ "hashes": [b64(&[1u8; 32])] }), "Invalid request body"),
        (json!({ "hash": [] }), "Invalid request body"),
        (json!([]), "Invalid request body"),
    ] {
        let (status, answer) = batch(&a, json, &body).await?;
        assert_eq!(status, 400, "{answer}");
        assert!(answer.to_string().contains(reason), "{reason}: {answer}");
    }
    let (status, _) = batch(&a, "text/plain", &json!({ "hashes": [] })).await?;
    assert_eq!(status, 415, "wrong content type");
    Ok(())
}
