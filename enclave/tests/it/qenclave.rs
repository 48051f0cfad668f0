//! Runs the real `qenclave` binary on port 0 and the enclave scenarios against
//! [`RemoteEnclave`] over HTTP, plus CLI and API-level checks.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use qrs_enclave::{CryptoSuite, Enclave, EnclaveStatus, RemoteEnclave};

use crate::enclave_ops::{self, Subject};
use crate::support::{member_dir, member_public};

/// A running `qenclave` process, killed on drop.
pub struct QEnclave {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for QEnclave {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_json(suite: CryptoSuite) -> serde_json::Value {
    let encryptor = match suite {
        CryptoSuite::Nacl => "NACL",
        CryptoSuite::X25519ChaCha20Poly1305 => "X25519_CHACHA20POLY1305",
    };
    serde_json::json!({
        "useWhiteList": false,
        "jdbc": {"username": "sa", "password": "", "url": "jdbc:h2:./target/enclave-test"},
        "serverConfigs": [
            {"app": "ENCLAVE", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"}
        ],
        "peer": [],
        "keys": {
            "passwords": [],
            "keyData": [
                {"privateKeyPath": member_dir(1).join("tm.key"), "publicKeyPath": member_dir(1).join("tm.pub")},
                {"privateKeyPath": member_dir(2).join("tm.key"), "publicKeyPath": member_dir(2).join("tm.pub")}
            ]
        },
        "alwaysSendTo": [member_public(3).to_base64()],
        "encryptor": {"type": encryptor}
    })
}

/// Starts `qenclave` with `config` (written to a temp file), passing the file with
/// `config_flag` (`--configfile` or Tessera's `-configfile`).
pub fn start_with(config: &serde_json::Value, config_flag: &str) -> QEnclave {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enclave-config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qenclave"))
        .arg(config_flag)
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("qenclave must start");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line =
        rx.recv_timeout(Duration::from_secs(60)).expect("qenclave printed no address within 60 s");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected qenclave output {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{url}");
    QEnclave { child, url, _dir: dir }
}

pub fn start(suite: CryptoSuite) -> QEnclave {
    start_with(&config_json(suite), "--configfile")
}

async fn scenarios_over_http(suite: CryptoSuite) {
    let server = start(suite);
    let remote = RemoteEnclave::new(&server.url).unwrap();
    enclave_ops::run_all(&Subject { enclave: &remote, suite, remote: true }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_enclave_nacl_scenarios() {
    scenarios_over_http(CryptoSuite::Nacl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_enclave_chacha_scenarios() {
    scenarios_over_http(CryptoSuite::X25519ChaCha20Poly1305).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tessera_style_single_dash_configfile_and_raw_api() {
    let server = start_with(&config_json(CryptoSuite::Nacl), "-configfile");
    let http = reqwest::Client::new();
    let ping = http.get(format!("{}/ping", server.url)).send().await.unwrap();
    assert_eq!(ping.status(), 200);
    assert_eq!(ping.text().await.unwrap(), "STARTED");
    let default = http.get(format!("{}/default", server.url)).send().await.unwrap();
    assert_eq!(default.headers()["content-type"], "application/octet-stream");
    assert_eq!(default.bytes().await.unwrap().as_ref(), member_public(1).as_bytes());
    let public: Vec<String> =
        http.get(format!("{}/public", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(public, vec![member_public(1).to_base64(), member_public(2).to_base64()]);
    let forwarding: Vec<String> =
        http.get(format!("{}/forwarding", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(forwarding, vec![member_public(3).to_base64()]);

    // Tessera's client sends the privacy mode by enum name and reads back LEGACY bytes.
    let body = serde_json::json!({
        "data": "aGVsbG8=",
        "senderKey": member_public(1).to_base64(),
        "recipientPublicKeys": [member_public(2).to_base64()],
        "privacyMode": "STANDARD_PRIVATE",
        "affectedContractTransactions": [],
        "execHash": "",
        "mandatoryRecipients": []
    });
    let encrypted = http.post(format!("{}/encrypt", server.url)).json(&body).send().await.unwrap();
    assert_eq!(encrypted.status(), 200);
    let payload =
        qrs_enclave::EncodedPayload::decode_legacy(&encrypted.bytes().await.unwrap()).unwrap();
    assert_eq!(payload.recipient_keys, vec![member_public(2), member_public(1)]);

    // Malformed JSON and undecodable payloads are 400s, unknown keys 404.
    let bad = http
        .post(format!("{}/unencrypt", server.url))
        .json(&serde_json::json!({"data": "AAAA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let unknown = http
        .post(format!("{}/encrypt", server.url))
        .json(&serde_json::json!({"data": "aGVsbG8=", "senderKey": member_public(3).to_base64()}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let bad_mode = http
        .post(format!("{}/encrypt", server.url))
        .json(&serde_json::json!({"data": "aGVsbG8=", "senderKey": member_public(1).to_base64(), "privacyMode": "NOPE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_mode.status(), 400);
}

#[tokio::test]
async fn remote_enclave_reports_stopped_when_unreachable() {
    // Bind then drop a listener to get a port nobody serves.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let remote = RemoteEnclave::with_timeout(&url, Duration::from_secs(2)).unwrap();
    assert_eq!(remote.status().await.unwrap(), EnclaveStatus::Stopped);
    let err = remote.default_public_key().await.unwrap_err();
    assert!(matches!(err, qrs_enclave::EnclaveError::RemoteUnavailable { .. }), "{err}");
}

#[test]
fn qenclave_fails_clearly_without_enclave_server_config() {
    let mut config = config_json(CryptoSuite::Nacl);
    config["serverConfigs"] =
        serde_json::json!([{"app": "Q2T", "serverAddress": "http://127.0.0.1:0"}]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    std::fs::write(&path, serde_json::to_vec(&config).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qenclave"))
        .arg("--configfile")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ENCLAVE"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tessera_config_without_keys_uses_the_remote_enclave() {
    let server = start(CryptoSuite::Nacl);
    // A TM config: no keys, an ENCLAVE serverConfig pointing at qenclave.
    let tm_config: qrs_enclave::TesseraConfig = serde_json::from_value(serde_json::json!({
        "serverConfigs": [
            {"app": "Q2T", "serverAddress": "unix:/tmp/tm.ipc"},
            {"app": "ENCLAVE", "serverAddress": server.url}
        ]
    }))
    .unwrap();
    let enclave = tm_config.build_enclave().unwrap();
    assert!(format!("{enclave:?}").contains("RemoteEnclave"));
    assert_eq!(enclave.default_public_key().await.unwrap(), member_public(1));

    // With keys it is in-process.
    let local: qrs_enclave::TesseraConfig =
        serde_json::from_value(config_json(CryptoSuite::Nacl)).unwrap();
    let enclave = local.build_enclave().unwrap();
    assert!(format!("{enclave:?}").contains("LocalEnclave"));
    assert_eq!(enclave.forwarding_keys().await.unwrap(), vec![member_public(3)]);

    // Neither: a clear error.
    let empty: qrs_enclave::TesseraConfig = serde_json::from_value(serde_json::json!({})).unwrap();
    assert!(empty.build_enclave().unwrap_err().to_string().contains("no keys"));
}
