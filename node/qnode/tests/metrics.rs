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

/// A qtm config over `<dir>/tm.{key,pub}` on free ports.
fn tm_config(dir: &std::path::Path) -> String {
    let prefix = dir.join("tm");
    serde_json::json!({
        "useWhiteList": false,
        "jdbc": {"url": format!("jdbc:sqlite:{}/db.sqlite", dir.display()), "username": "", "password": ""},
        "peer": [],
        "keys": {"passwords": [], "keyData": [{
            "privateKeyPath": format!("{}.key", prefix.display()),
            "publicKeyPath": format!("{}.pub", prefix.display()),
        }]},
        "serverConfigs": [
            {"app": "Q2T", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"},
            {"app": "P2P", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"},
        ],
    })
    .to_string()
}

/// The node's calls to its TM are counted per endpoint, and a 404 (`ptm_receive_notfound`)
/// is told apart from a TM that cannot be reached (`ptm_unreachable`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ptm_calls_are_counted_per_endpoint_and_notfound_is_not_unreachable() -> eyre::Result<()> {
    use qrs_ptm::{PtmClient, PtmConfig, ReceiveRetry, SendRequest, TmHash};
    let dir = tempfile::tempdir()?;
    let key = qrs_enclave::generate_key_files(dir.path().join("tm"), None)?.to_base64();
    let tm = qrs_qtm::start(&tm_config(dir.path())).await?;
    let q2t = tm
        .servers
        .iter()
        .find(|s| s.app.as_str() == "Q2T")
        .map(|s| s.url.clone())
        .ok_or_else(|| eyre::eyre!("no Q2T server"))?;
    let retry = ReceiveRetry { attempts: 2, pause: std::time::Duration::from_millis(50) };
    let client = PtmClient::connect_with_retry(&PtmConfig::http(&q2t)?, retry).await?;
    let g = qrs_metrics::global();
    let requests = |ep: &str| g.counter_with("ptm/requests", &[("endpoint", ep)]).get();
    let errors = |ep: &str| g.counter_with("ptm/errors", &[("endpoint", ep)]).get();
    let timed = |ep: &str| g.timer_with("ptm/duration", &[("endpoint", ep)]).count();
    let (send0, recv0, timed0) = (requests("send"), requests("receive"), timed("receive"));
    let (notfound0, unreachable0) =
        (g.counter("ptm/receive/notfound").get(), g.counter("ptm/unreachable").get());

    let request = SendRequest { payload: b"metrics".to_vec(), to: vec![key], ..Default::default() };
    let sent = client.send(&request).await?;
    assert!(client.receive(&sent.key, false).await?.is_some());
    assert!(client.receive(&TmHash([7; 64]), false).await?.is_none());
    assert_eq!(requests("send") - send0, 1);
    assert_eq!(requests("receive") - recv0, 2);
    assert_eq!(timed("receive") - timed0, 2);
    assert_eq!(g.counter("ptm/receive/notfound").get() - notfound0, 1);
    assert_eq!(g.counter("ptm/unreachable").get(), unreachable0, "a 404 is not 'unreachable'");

    // the TM goes away: each receive attempt fails as unreachable
    let errors0 = errors("receive");
    drop(tm);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(client.receive(&sent.key, false).await.is_err());
    assert_eq!(errors("receive") - errors0, 2);
    assert_eq!(g.counter("ptm/unreachable").get() - unreachable0, 2);
    assert_eq!(g.counter("ptm/receive/notfound").get() - notfound0, 1);

    let samples = text::parse(&g.render_prometheus())?;
    assert!(text::value(&samples, "ptm_requests", &[("endpoint", "send")]).is_some());
    assert!(
        text::value(&samples, "ptm_duration", &[("endpoint", "receive"), ("quantile", "0.5")])
            .is_some()
    );
    Ok(())
}
