//! `/metrics` on the P2P server moves with a send and a receive; `--log.json` writes only
//! JSON lines with Tessera's fields.

use eyre::Result;
use qrs_metrics::text;
use serde_json::Value;

use crate::harness::{Node, NodeOptions, http, receive, send, wait_for_discovery};

pub(crate) async fn scrape(node: &Node) -> Result<Vec<text::Sample>> {
    let resp = http().get(format!("{}/metrics", node.p2p)).send().await?;
    assert_eq!(resp.status().as_u16(), 200);
    let ctype = resp.headers()["content-type"].to_str()?.to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let body = resp.text().await?;
    // every line is valid Prometheus text format
    Ok(text::parse(&body)?)
}

pub(crate) fn value(samples: &[text::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    text::value(samples, name, labels).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_sends_pushes_and_receives() -> Result<()> {
    let a = Node::start(NodeOptions::default()).await?;
    let b =
        Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..NodeOptions::default() }).await?;
    wait_for_discovery(&[&a, &b]).await?;
    let (a0, b0) = (scrape(&a).await?, scrape(&b).await?);

    let hash = send(&a, b"metrics", &[b.key()]).await?;
    assert_eq!(receive(&b, &hash).await?.as_deref(), Some(&b"metrics"[..]));
    assert_eq!(receive(&b, "AAAA").await.ok().flatten(), None);

    let (a1, b1) = (scrape(&a).await?, scrape(&b).await?);
    let send_labels = [("app", "Q2T"), ("endpoint", "/send")];
    assert_eq!(
        value(&a1, "qtm_requests", &send_labels) - value(&a0, "qtm_requests", &send_labels),
        1.0
    );
    assert!(value(&a1, "qtm_request_duration_count", &send_labels) >= 1.0);
    assert!(text::value(&a1, "qtm_request_duration", &[("quantile", "0.5")]).is_some());
    assert_eq!(
        value(&a1, "qtm_payloads_stored", &[]) - value(&a0, "qtm_payloads_stored", &[]),
        1.0
    );
    // B got the payload pushed by A, and served one receive (plus one bad request)
    assert_eq!(
        value(&b1, "qtm_payloads_received", &[]) - value(&b0, "qtm_payloads_received", &[]),
        1.0
    );
    let recv = [("app", "Q2T"), ("endpoint", "/transaction/{*rest}")];
    assert!(value(&b1, "qtm_requests", &recv) - value(&b0, "qtm_requests", &recv) >= 2.0);
    assert!(value(&b1, "qtm_request_errors", &recv) >= 1.0, "the bad hash counts as an error");
    // each knows the other
    assert!(value(&a1, "qtm_peers_known", &[]) >= 1.0);
    assert!(value(&b1, "qtm_peers_reachable", &[]) >= 1.0);
    assert!(value(&a1, "qtm_keys_known", &[]) >= 2.0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_have_tesseras_fields_on_every_line() -> Result<()> {
    let opts = NodeOptions { extra_args: vec!["--log.json".into()], ..NodeOptions::default() };
    let a = Node::start(opts.clone()).await?;
    let b = Node::start(NodeOptions { peers: vec![a.p2p.clone()], ..opts }).await?;
    wait_for_discovery(&[&a, &b]).await?;
    let hash = send(&a, b"json logs", &[b.key()]).await?;
    assert!(receive(&b, &hash).await?.is_some());
    for node in [&a, &b] {
        let log = node.log();
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(lines.len() >= 3, "too few log lines:\n{log}");
        for line in lines {
            let v: Value = serde_json::from_str(line)
                .map_err(|e| eyre::eyre!("not a JSON line ({e}): {line}"))?;
            for field in ["timestamp", "level", "thread", "logger", "class", "message"] {
                assert!(v[field].is_string(), "no {field} in {line}");
            }
            let ts = v["timestamp"].as_str().unwrap_or_default();
            assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
            assert!(
                ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                    .contains(&v["level"].as_str().unwrap_or(""))
            );
        }
        assert!(log.contains("\"logger\":\"qtm::"), "no qtm logger in\n{log}");
    }
    Ok(())
}
