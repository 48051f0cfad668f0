//! The `qtm` command line: Tessera's quickstart config used as is, and key generation.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use eyre::{Result, bail, eyre};
use qrs_enclave::PublicKey;
use serde_json::{Value, json};

use crate::harness::{ChildGuard, b64, http, path_escape};

const FIXTURES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/goquorum-quickstart");

/// The quickstart template with its `${...}` placeholders filled, ports set to 0 and key paths
/// pointing at the fixture keys of `member`.
fn quickstart_config(member: &str, peer_override: Option<&str>) -> Result<String> {
    let template =
        std::fs::read_to_string(format!("{FIXTURES}/tessera/tessera-config-template.json"))?;
    let mut text = template
        .replace("${TESSERA_MODE}", "tessera")
        .replace("${HOSTNAME}", "127.0.0.1")
        .replace(":9080\"", ":0\"")
        .replace(":9101\"", ":0\"")
        .replace("127.0.0.1:9000\"", "127.0.0.1:0\"")
        .replace("/config/keys/tm.key", &format!("{FIXTURES}/nodes/{member}/tm.key"))
        .replace("/config/keys/tm.pub", &format!("{FIXTURES}/nodes/{member}/tm.pub"));
    if let Some(url) = peer_override {
        text = text.replace("http://member1tessera:9000", url);
    }
    assert!(!text.contains("${"), "placeholders left: {text}");
    Ok(text)
}

struct Started {
    _child: ChildGuard,
    _dir: tempfile::TempDir,
    urls: Vec<(String, String)>,
}

impl Started {
    fn url(&self, app: &str) -> String {
        self.urls.iter().find(|(a, _)| a == app).map(|(_, u)| u.clone()).unwrap_or_default()
    }
}

fn start_with_config(config: &str) -> Result<Started> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tessera-config.json");
    std::fs::write(&path, config)?;
    let log = std::fs::File::create(dir.path().join("qtm.log"))?;
    // Tessera resolves `jdbc:h2:./data/tm/db` against the working directory.
    let mut child = Command::new(env!("CARGO_BIN_EXE_qtm"))
        .arg("-configfile")
        .arg(&path)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| eyre!("no stdout"))?;
    let guard = ChildGuard(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut urls = Vec::new();
    while urls.len() < 3 {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
            bail!(
                "qtm did not start: {}",
                std::fs::read_to_string(dir.path().join("qtm.log")).unwrap_or_default()
            );
        };
        if let Some((app, url)) =
            line.strip_prefix("qtm listening app=").and_then(|r| r.split_once(" url="))
        {
            urls.push((app.to_owned(), url.to_owned()));
        }
    }
    Ok(Started { _child: guard, _dir: dir, urls })
}

#[tokio::test(flavor = "multi_thread")]
async fn quickstart_tessera_config_runs_unchanged() -> Result<()> {
    let member1 = start_with_config(&quickstart_config("member1", None)?)?;
    assert!(
        member1._dir.path().join("data/tm").exists(),
        "H2 URL mapped to a store under ./data/tm"
    );
    let p2p1 = member1.url("P2P");
    let member2 = start_with_config(&quickstart_config("member2", Some(&p2p1))?)?;
    let key1: PublicKey =
        std::fs::read_to_string(format!("{FIXTURES}/nodes/member1/tm.pub"))?.trim().parse()?;
    let key2: PublicKey =
        std::fs::read_to_string(format!("{FIXTURES}/nodes/member2/tm.pub"))?.trim().parse()?;

    let keys: Value =
        http().get(format!("{}/keys", member1.url("ThirdParty"))).send().await?.json().await?;
    assert_eq!(keys, json!({"keys": [{"key": key1}]}));
    let versions: Value =
        http().get(format!("{}/version/api", member1.url("Q2T"))).send().await?.json().await?;
    assert_eq!(versions, json!(["1.0", "2.0", "2.1", "3.0", "4.0"]));

    // Wait for member1 to learn member2's key, then send like GoQuorum (4.0 media type).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let v: Value = http()
            .get(format!("{}/partyinfo/keys", member1.url("ThirdParty")))
            .send()
            .await?
            .json()
            .await?;
        if v["keys"].as_array().is_some_and(|k| k.iter().any(|e| e["key"] == json!(key2))) {
            break;
        }
        if std::time::Instant::now() > deadline {
            bail!("member1 never learned member2's key: {v}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resp = http()
        .post(format!("{}/send", member1.url("Q2T")))
        .header("Content-Type", "application/vnd.tessera-4.0+json")
        .header("Accept", "application/vnd.tessera-4.0+json")
        .body(
            json!({"payload": b64(b"quickstart"), "from": key1, "to": [key2], "privacyFlag": 0})
                .to_string(),
        )
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 201);
    let v: Value = resp.json().await?;
    assert_eq!(v["senderKey"], json!(key1));
    assert_eq!(v["managedParties"], json!([key1]));
    let hash = v["key"].as_str().unwrap_or_default().to_owned();
    let got: Value = http()
        .get(format!("{}/transaction/{}?isRaw=false", member2.url("Q2T"), path_escape(&hash)))
        .header("Accept", "application/vnd.tessera-2.1+json")
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(got["payload"], json!(b64(b"quickstart")));
    assert_eq!(got["senderKey"], json!(key1));
    assert_eq!(got["managedParties"], json!([key2]));
    assert_eq!(got["execHash"], json!(""));
    Ok(())
}

#[test]
fn keygen_writes_tessera_key_files() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = Command::new(env!("CARGO_BIN_EXE_qtm"))
        .args(["keygen", "--filename", "a,b"])
        .current_dir(dir.path())
        .output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out2 = Command::new(env!("CARGO_BIN_EXE_qtm"))
        .args(["-keygen", "-filename", "c"])
        .current_dir(dir.path())
        .output()?;
    assert!(out2.status.success(), "{}", String::from_utf8_lossy(&out2.stderr));
    let printed = String::from_utf8(out.stdout)?;
    for (name, line) in ["a", "b"].iter().zip(printed.lines()) {
        let public: PublicKey =
            std::fs::read_to_string(dir.path().join(format!("{name}.pub")))?.trim().parse()?;
        assert_eq!(line.trim(), public.to_string());
        let key: Value = serde_json::from_str(&std::fs::read_to_string(
            dir.path().join(format!("{name}.key")),
        )?)?;
        assert_eq!(key["type"], json!("unlocked"));
    }
    assert!(dir.path().join("c.pub").exists() && dir.path().join("c.key").exists());
    // Existing files are never overwritten.
    let again = Command::new(env!("CARGO_BIN_EXE_qtm"))
        .args(["keygen", "--filename", "a"])
        .current_dir(dir.path())
        .output()?;
    assert!(!again.status.success());
    Ok(())
}
