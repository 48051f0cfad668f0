//! Pushes to one peer are coalesced into `/pushBatch` under load, and every send still gets
//! its own outcome.

use eyre::{Result, ensure};
use futures::{StreamExt, stream};
use serde_json::{Value, json};

use crate::{
    harness::{Node, NodeOptions, b64, http, receive, send, store_count, wait_for_discovery},
    metrics::{scrape, value},
};

const BATCH: [(&str, &str); 2] = [("app", "P2P"), ("endpoint", "/pushBatch")];
const SINGLE: [(&str, &str); 2] = [("app", "P2P"), ("endpoint", "/push")];

async fn two_nodes(b_options: NodeOptions) -> Result<(Node, Node)> {
    let a = Node::start(NodeOptions::default()).await?;
    let b = Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..b_options }).await?;
    wait_for_discovery(&[&a, &b]).await?;
    Ok((a, b))
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_sends_to_one_peer_are_coalesced_and_each_arrives() -> Result<()> {
    let (a, b) = two_nodes(NodeOptions::default()).await?;
    const SENDS: usize = 400;
    let hashes: Vec<(usize, String)> = stream::iter(0..SENDS)
        .map(|i| {
            let (a, b) = (&a, &b);
            async move {
                Ok::<_, eyre::Report>((i, send(a, format!("p{i}").as_bytes(), &[b.key()]).await?))
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    for (i, hash) in &hashes {
        let want = format!("p{i}");
        assert_eq!(receive(&b, hash).await?.as_deref(), Some(want.as_bytes()), "send {i}");
    }
    assert_eq!(store_count(&a).await?, SENDS as u64);
    assert_eq!(store_count(&b).await?, SENDS as u64);

    let metrics = scrape(&b).await?;
    assert_eq!(value(&metrics, "qtm_payloads_received", &[]), SENDS as f64);
    let batches = value(&metrics, "qtm_requests", &BATCH);
    let singles = value(&metrics, "qtm_requests", &SINGLE);
    assert!(batches >= 1.0, "64 concurrent sends formed no batch ({singles} single pushes)");
    assert!(batches + singles < SENDS as f64, "{batches} batches + {singles} pushes");
    assert_eq!(value(&metrics, "qtm_request_errors", &BATCH), 0.0);
    Ok(())
}

/// B refuses privacy-enhanced payloads. Sent concurrently with standard ones, each refused one
/// fails alone (with B's reason, nothing stored on either side) even when it travelled in a
/// batch, and every standard one arrives.
#[tokio::test(flavor = "multi_thread")]
async fn a_payload_the_peer_refuses_fails_alone_inside_a_batch() -> Result<()> {
    let no_enhancements = json!({"features": {"enablePrivacyEnhancements": false}});
    let (a, b) =
        two_nodes(NodeOptions { extra_config: Some(no_enhancements), ..NodeOptions::default() })
            .await?;
    const SENDS: usize = 300;
    let refused = |i: usize| i % 10 == 3;
    let outcomes: Vec<(usize, u16, String)> = stream::iter(0..SENDS)
        .map(|i| {
            let (a, b) = (&a, &b);
            async move {
                let mut body = json!({"payload": b64(format!("p{i}").as_bytes()), "from": a.key(), "to": [b.key()]});
                if refused(i) {
                    body["privacyFlag"] = json!(1);
                }
                let resp = http().post(format!("{}/send", a.q2t)).json(&body).send().await?;
                let status = resp.status().as_u16();
                Ok::<_, eyre::Report>((i, status, resp.text().await?))
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let mut delivered = 0u64;
    for (i, status, text) in &outcomes {
        if refused(*i) {
            ensure!(*status >= 400, "refused send {i} answered {status}: {text}");
            ensure!(text.contains("Privacy enhancements are disabled"), "send {i}: {text}");
        } else {
            ensure!(*status == 201, "send {i} answered {status}: {text}");
            let hash =
                serde_json::from_str::<Value>(text)?["key"].as_str().unwrap_or("").to_owned();
            let want = format!("p{i}");
            assert_eq!(receive(&b, &hash).await?.as_deref(), Some(want.as_bytes()), "send {i}");
            delivered += 1;
        }
    }
    assert_eq!(delivered, 270);
    assert_eq!(store_count(&a).await?, delivered, "a refused send left its payload at A");
    assert_eq!(store_count(&b).await?, delivered);
    let metrics = scrape(&b).await?;
    assert!(
        value(&metrics, "qtm_request_errors", &BATCH) >= 1.0,
        "no batch carried a refused payload, so the fallback was not exercised"
    );
    Ok(())
}

/// The harness's send helper is unchanged by batching (a single send is a single `/push`).
#[tokio::test(flavor = "multi_thread")]
async fn a_lone_send_is_a_plain_push() -> Result<()> {
    let (a, b) = two_nodes(NodeOptions::default()).await?;
    let hash = send(&a, b"alone", &[b.key()]).await?;
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"alone"[..]));
    let metrics = scrape(&b).await?;
    assert_eq!(value(&metrics, "qtm_requests", &SINGLE), 1.0);
    assert_eq!(value(&metrics, "qtm_requests", &BATCH), 0.0);
    Ok(())
}
