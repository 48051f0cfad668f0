//! Discovery security: keys are bound only to the node that owns them (remote key validation
//! on by default), second-hand claims are ignored, `disablePeerDiscovery` refuses strangers.

use eyre::Result;
use qrs_qtm::partyinfo::{PartyInfoMessage, PartyRecipient};
use serde_json::{Value, json};

use crate::harness::{Node, NodeOptions, http, receive, send, wait_for_discovery};

async fn post_party_info(to: &Node, msg: &PartyInfoMessage) -> Result<(u16, String)> {
    let resp = http()
        .post(format!("{}/partyinfo", to.p2p))
        .header("Content-Type", "application/octet-stream")
        .header("tesseraSupportedApiVersions", "v1,v2,2.1,3.0,4.0")
        .body(msg.encode())
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await.unwrap_or_default()))
}

async fn owner_of(node: &Node, key: &str) -> Result<Option<String>> {
    let v: Value = http().get(format!("{}/partyinfo", node.p2p)).send().await?.json().await?;
    Ok(v["keys"].as_array().and_then(|keys| {
        keys.iter()
            .find(|k| k["key"] == json!(key))
            .and_then(|k| k["url"].as_str().map(str::to_owned))
    }))
}

#[tokio::test(flavor = "multi_thread")]
async fn key_hijack_is_refused() -> Result<()> {
    for validation in [None, Some(false)] {
        let opts = NodeOptions { validate_keys: validation, ..NodeOptions::default() };
        let a = Node::start(opts.clone()).await?;
        let b = Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..opts }).await?;
        wait_for_discovery(&[&a, &b]).await?;
        let b_key = b.key().to_string();
        let b_url = owner_of(&a, &b_key).await?.unwrap_or_default();
        assert!(b_url.starts_with(&b.p2p), "{b_url} vs {}", b.p2p);

        // An attacker at another URL claims B's key for itself, and a fake key for B's URL.
        let attacker = "http://127.0.0.1:9/".to_owned();
        let msg = PartyInfoMessage {
            url: attacker.clone(),
            recipients: vec![
                PartyRecipient { key: b.key().0.to_vec(), url: attacker.clone() },
                PartyRecipient { key: vec![0x55; 32], url: b_url.clone() },
            ],
            parties: vec![],
        };
        let (status, text) = post_party_info(&a, &msg).await?;
        if validation.is_none() {
            assert_eq!(status, 403, "validation must refuse the claim: {text}");
        }
        // Either way B's key still routes to B, and the second-hand claim was ignored.
        assert_eq!(owner_of(&a, &b_key).await?.as_deref(), Some(b_url.as_str()));
        let fake = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0x55u8; 32]);
        assert_eq!(owner_of(&a, &fake).await?, None);
        let hash = send(&a, b"still to B", &[b.key()]).await?;
        assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"still to B"[..]));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn disable_peer_discovery_refuses_unconfigured_nodes() -> Result<()> {
    let closed = NodeOptions {
        extra_config: Some(json!({"disablePeerDiscovery": true})),
        ..NodeOptions::default()
    };
    let a = Node::start(closed).await?;
    let msg =
        PartyInfoMessage { url: "http://127.0.0.1:9/".into(), recipients: vec![], parties: vec![] };
    let (status, text) = post_party_info(&a, &msg).await?;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("not a configured peer"), "{text}");
    Ok(())
}
