//! The PTM client against real qtm servers (in-process, real HTTP and unix sockets).

use std::{
    path::Path,
    time::{Duration, Instant},
};

use qrs_ptm::{
    PtmClient, PtmConfig, PtmError, ReceiveRetry, SendRequest, SendSignedRequest, TmHash,
};
use qrs_qtm::RunningNode;
use serde_json::json;

struct Tm {
    node: RunningNode,
    key: String,
    _dir: tempfile::TempDir,
}

impl Tm {
    fn url(&self, app: &str) -> String {
        self.node
            .servers
            .iter()
            .find(|s| format!("{:?}", s.app).eq_ignore_ascii_case(app))
            .map(|s| s.url.clone())
            .unwrap_or_else(|| panic!("no {app} server"))
    }
}

async fn start_tm(peers: &[String], unix_q2t: bool) -> Tm {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("tm");
    let key = qrs_enclave::generate_key_files(&prefix, None).unwrap().to_base64();
    let q2t = if unix_q2t {
        format!("unix:{}", dir.path().join("tm.ipc").display())
    } else {
        "http://127.0.0.1:0".into()
    };
    let config = json!({
        "useWhiteList": false,
        "jdbc": {"url": format!("jdbc:sqlite:{}/db.sqlite", dir.path().display()), "username": "", "password": ""},
        "peer": peers.iter().map(|p| json!({"url": p})).collect::<Vec<_>>(),
        "features": {"enablePrivacyEnhancements": true},
        "keys": {"passwords": [], "keyData": [{
            "privateKeyPath": format!("{}.key", prefix.display()),
            "publicKeyPath": format!("{}.pub", prefix.display()),
        }]},
        "serverConfigs": [
            {"app": "Q2T", "enabled": true, "serverAddress": q2t, "communicationType": "REST"},
            {"app": "ThirdParty", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"},
            {"app": "P2P", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST",
             "properties": {"partyInfoInterval": "200"}},
        ],
    });
    let node = qrs_qtm::start(&config.to_string()).await.unwrap();
    Tm { node, key, _dir: dir }
}

fn config_for(url: &str) -> PtmConfig {
    match url.strip_prefix("unix:") {
        Some(path) => PtmConfig::unix(Path::new(path)),
        None => PtmConfig::http(url).unwrap(),
    }
}

/// Sends until A has learnt B's key through discovery (PartyInfo), at most 20 s.
async fn send_when_peered(a: &PtmClient, req: &SendRequest) -> qrs_ptm::SendResponse {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match a.send(req).await {
            Ok(r) => return r,
            Err(e) if Instant::now() < deadline => {
                tracing_wait(&e).await;
            }
            Err(e) => panic!("send never succeeded: {e}"),
        }
    }
}

async fn tracing_wait(_e: &PtmError) {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_receive_over_http_and_unix_socket() {
    let a = start_tm(&[], false).await;
    let b = start_tm(&[a.url("P2P")], true).await;
    let c = start_tm(&[a.url("P2P")], false).await;
    let ca = PtmClient::connect(&config_for(&a.url("Q2T"))).await.unwrap();
    let cb = PtmClient::connect(&config_for(&b.url("Q2T"))).await.unwrap();
    let cc = PtmClient::connect(&config_for(&c.url("Q2T"))).await.unwrap();
    assert!(ca.features().privacy_enhancements && ca.features().mandatory_recipients);
    assert!(cb.endpoint().starts_with("unix:"), "{}", cb.endpoint());

    let payload = b"\x60\x80\x60\x40 init code".to_vec();
    let sent = send_when_peered(
        &ca,
        &SendRequest {
            payload: payload.clone(),
            from: Some(a.key.clone()),
            to: vec![b.key.clone()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(sent.sender_key.as_deref(), Some(a.key.as_str()));

    // the sender and the recipient (over the unix socket) read the payload; a third TM is no party
    let at_a = ca.receive(&sent.key, false).await.unwrap().expect("sender has it");
    let at_b = cb.receive(&sent.key, false).await.unwrap().expect("recipient has it");
    assert_eq!(at_a.payload, payload);
    assert_eq!(at_b.payload, payload);
    assert_eq!(at_b.sender_key.as_deref(), Some(a.key.as_str()));
    assert_eq!(cc.receive(&sent.key, false).await.unwrap(), None, "404 means not a party");
    assert!(ca.is_sender(&sent.key).await.unwrap());
    assert!(!cb.is_sender(&sent.key).await.unwrap());
    let parties = ca.participants(&sent.key).await.unwrap();
    assert!(parties.contains(&b.key), "{parties:?}");

    // a block's payloads at once, in order, unknown ones as None: one `POST /receiveBatch`,
    // no single receive
    let unknown = TmHash([7u8; 64]);
    let before = q2t_requests(&b).await;
    let many = cb.receive_many(&[sent.key, unknown, sent.key], 8).await.unwrap();
    assert_eq!(many.len(), 3);
    assert_eq!(many[0].as_ref().map(|r| &r.payload), Some(&payload));
    assert_eq!(many[1], None);
    assert_eq!(many[2].as_ref().map(|r| &r.payload), Some(&payload));
    let after = q2t_requests(&b).await;
    assert_eq!(after.0 - before.0, 1.0, "one /receiveBatch request");
    assert_eq!(after.1, before.1, "no GET /transaction/{{hash}}");
    assert!(cc.receive_many(&[sent.key], 8).await.unwrap()[0].is_none(), "C is no party");

    // the raw path: store for the sender only, then distribute
    let raw_payload = b"raw payload".to_vec();
    let stored = ca.store_raw(&raw_payload, Some(&a.key)).await.unwrap();
    assert_eq!(cb.receive(&stored, false).await.unwrap(), None, "not pushed before sendsignedtx");
    let raw = ca.receive(&stored, true).await.unwrap().expect("raw stored at the sender");
    assert_eq!(raw.payload, raw_payload);
    let signed = ca
        .send_signed(&SendSignedRequest {
            hash: stored,
            to: vec![c.key.clone()],
            affected_contract_transactions: vec![],
            exec_hash: None,
            privacy_flag: 0,
            mandatory_recipients: vec![],
        })
        .await;
    let signed = match signed {
        Ok(s) => s,
        Err(_) => {
            // C may not be known to A yet: discovery runs every 200 ms
            tokio::time::sleep(Duration::from_secs(2)).await;
            ca.send_signed(&SendSignedRequest {
                hash: stored,
                to: vec![c.key.clone()],
                affected_contract_transactions: vec![],
                exec_hash: None,
                privacy_flag: 0,
                mandatory_recipients: vec![],
            })
            .await
            .unwrap()
        }
    };
    let at_c = cc.receive(&signed.key, false).await.unwrap().expect("pushed to C");
    assert_eq!(at_c.payload, raw_payload);
}

/// The TM's counts of `POST /receiveBatch` and `GET /transaction/{hash}` requests (its
/// `/metrics`).
async fn q2t_requests(tm: &Tm) -> (f64, f64) {
    let body = reqwest::get(format!("{}/metrics", tm.url("P2P"))).await.unwrap();
    let samples = qrs_metrics::text::parse(&body.text().await.unwrap()).unwrap();
    let count = |endpoint: &str| {
        qrs_metrics::text::value(
            &samples,
            "qtm_requests",
            &[("app", "Q2T"), ("endpoint", endpoint)],
        )
        .unwrap_or(0.0)
    };
    (count("/receiveBatch"), count("/transaction/{*rest}"))
}

/// A TM without `/receiveBatch` (Tessera): a front that passes `/upcheck`, `/version*` and
/// `GET /transaction/{hash}` on to a real qtm, counting the receives, and answers anything else
/// with 404 as Tessera's Jersey does.
async fn tessera_like_front(
    q2t: String,
) -> (String, [std::sync::Arc<std::sync::atomic::AtomicU32>; 2]) {
    use std::sync::{Arc, atomic::AtomicU32, atomic::Ordering};
    let receives = Arc::new(AtomicU32::new(0));
    let unknown = Arc::new(AtomicU32::new(0));
    let not_found = unknown.clone();
    let counted = receives.clone();
    let forward = move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
        let (q2t, counted) = (q2t.clone(), counted.clone());
        async move {
            if uri.path().starts_with("/transaction/") {
                counted.fetch_add(1, Ordering::Relaxed);
            }
            let mut req = reqwest::Client::new().get(format!("{q2t}{uri}"));
            if let Some(accept) = headers.get("accept") {
                req = req.header("accept", accept.as_bytes());
            }
            let resp = req.send().await.unwrap();
            let status = axum::http::StatusCode::from_u16(resp.status().as_u16()).unwrap();
            (status, resp.bytes().await.unwrap())
        }
    };
    let app = axum::Router::new()
        .route("/upcheck", axum::routing::get(forward.clone()))
        .route("/version", axum::routing::get(forward.clone()))
        .route("/version/api", axum::routing::get(forward.clone()))
        .route("/transaction/{*rest}", axum::routing::get(forward))
        .fallback(move || {
            not_found.fetch_add(1, Ordering::Relaxed);
            async { (axum::http::StatusCode::NOT_FOUND, "HTTP 404 Not Found") }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, [receives, unknown])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_many_falls_back_to_single_receives_on_a_tm_without_batches() {
    let a = start_tm(&[], false).await;
    let ca = PtmClient::connect(&config_for(&a.url("Q2T"))).await.unwrap();
    let sent = ca
        .send(&SendRequest {
            payload: b"mine".to_vec(),
            from: Some(a.key.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let (front, [receives, unknown_paths]) = tessera_like_front(a.url("Q2T")).await;
    let client = PtmClient::connect(&config_for(&front)).await.unwrap();
    let unknown = TmHash([3u8; 64]);
    for round in 1..=2u32 {
        let many = client.receive_many(&[sent.key, unknown], 8).await.unwrap();
        assert_eq!(many[0].as_ref().map(|r| r.payload.as_slice()), Some(&b"mine"[..]));
        assert_eq!(many[1], None);
        // two single receives per round; /receiveBatch is tried once, answered 404
        assert_eq!(receives.load(std::sync::atomic::Ordering::Relaxed), 2 * round);
        assert_eq!(unknown_paths.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tm_errors_are_reported_not_turned_into_not_party() {
    let a = start_tm(&[], false).await;
    let ca = PtmClient::connect_with_retry(
        &config_for(&a.url("Q2T")),
        ReceiveRetry { attempts: 3, pause: Duration::from_millis(20) },
    )
    .await
    .unwrap();
    // a recipient no TM knows: Tessera's 404 "Recipient not found", passed on as GoQuorum does
    let err = ca
        .send(&SendRequest {
            payload: vec![1],
            to: vec!["BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, PtmError::Status { status: 404, .. }), "{err}");
    assert!(err.to_string().starts_with("404 status: "), "{err}");

    // the TM goes away: receive retries, then fails (it must not say "not a party")
    let url = a.url("Q2T");
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let err = ca.receive(&TmHash([1u8; 64]), false).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(matches!(err, PtmError::Unreachable { .. }), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(40), "two pauses between three attempts");

    // connecting to nothing, or to something that is not a TM
    let err = PtmClient::connect(&config_for(&url)).await.unwrap_err();
    assert!(matches!(err, PtmError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn connect_refuses_a_server_that_is_not_a_tm() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\ndown")
                .await;
        }
    });
    let err =
        PtmClient::connect(&PtmConfig::http(&format!("http://{addr}")).unwrap()).await.unwrap_err();
    assert!(matches!(err, PtmError::NotUp(_)), "{err}");
    assert!(err.to_string().contains("503"), "{err}");
}
