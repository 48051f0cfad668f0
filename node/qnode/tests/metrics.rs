//! A metrics server on port 0 reports the address it bound, and serves geth's paths.

use qrs_metrics::text;
use qrs_node::{NodeConfig, launch};

#[tokio::test(flavor = "multi_thread")]
async fn metrics_on_port_zero_report_the_bound_address() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = NodeConfig::dev_test(dir.path().to_path_buf());
    config.metrics = vec!["127.0.0.1:0".parse()?];
    let node = launch(config).await?;
    let urls = node.metrics_urls();
    assert_eq!(urls.len(), 1);
    let port = node.metrics_addrs[0].port();
    assert_ne!(port, 0);
    assert_eq!(urls[0], format!("http://127.0.0.1:{port}/debug/metrics/prometheus"));
    let body = reqwest::get(&urls[0]).await?.text().await?;
    let samples = text::parse(&body)?;
    assert_eq!(text::value(&samples, "chain_head_block", &[]), Some(0.0));
    assert!(text::value(&samples, "txpool_pending", &[]).is_some());
    let json: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("http://127.0.0.1:{port}/debug/metrics")).await?.text().await?,
    )?;
    assert_eq!(json["chain/head/block"], 0);
    node.stop().await?;
    // the server stops with the node
    assert!(reqwest::get(&urls[0]).await.is_err());
    Ok(())
}
