//! Running `qtm` processes (our Tessera-compatible transaction manager) for network tests: one
//! key pair each, SQLite storage, Q2T / ThirdParty / P2P on loopback, peered through a first
//! TM's P2P URL. Ports are chosen up front so a restarted TM keeps its URLs.

use std::{
    fs::OpenOptions,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use eyre::{WrapErr, eyre};
use serde_json::json;

use crate::{binary::sibling_bin, network::free_port};

/// A running `qtm`. Dropping it kills the process.
#[derive(Debug)]
pub struct Qtm {
    /// Its directory (keys, config, database, log).
    pub dir: PathBuf,
    /// Q2T URL (what the node's `--ptm.url` names).
    pub q2t: String,
    /// ThirdParty URL (`/storeraw` for web3js-quorum).
    pub third_party: String,
    /// P2P URL.
    pub p2p: String,
    /// Its public key (base64), what `privateFor` / `privateFrom` name.
    pub public_key: String,
    child: Option<Child>,
}

impl Qtm {
    /// Creates keys and a config in `dir` and starts the TM; `peers` are other TMs' P2P URLs.
    pub fn start(dir: &Path, peers: &[String]) -> eyre::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let prefix = dir.join("tm");
        let public_key = qrs_enclave::generate_key_files(&prefix, None)
            .map_err(|e| eyre!("generating TM keys: {e}"))?
            .to_base64();
        let (q2t, tp, p2p) = (free_port()?, free_port()?, free_port()?);
        let config = json!({
            "useWhiteList": false,
            "jdbc": {"url": format!("jdbc:sqlite:{}/db.sqlite", dir.display()), "username": "", "password": ""},
            "peer": peers.iter().map(|p| json!({"url": p})).collect::<Vec<_>>(),
            "features": {"enablePrivacyEnhancements": true},
            "keys": {"passwords": [], "keyData": [{
                "privateKeyPath": format!("{}.key", prefix.display()),
                "publicKeyPath": format!("{}.pub", prefix.display()),
            }]},
            "serverConfigs": [
                {"app": "Q2T", "enabled": true, "serverAddress": format!("http://127.0.0.1:{q2t}"), "communicationType": "REST"},
                {"app": "ThirdParty", "enabled": true, "serverAddress": format!("http://127.0.0.1:{tp}"), "communicationType": "REST"},
                {"app": "P2P", "enabled": true, "serverAddress": format!("http://127.0.0.1:{p2p}"), "communicationType": "REST",
                 "properties": {"partyInfoInterval": "300"}},
            ],
        });
        std::fs::write(dir.join("tessera-config.json"), serde_json::to_vec_pretty(&config)?)?;
        let mut tm = Self {
            dir: dir.to_path_buf(),
            q2t: format!("http://127.0.0.1:{q2t}"),
            third_party: format!("http://127.0.0.1:{tp}"),
            p2p: format!("http://127.0.0.1:{p2p}"),
            public_key,
            child: None,
        };
        tm.spawn()?;
        Ok(tm)
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn(&mut self) -> eyre::Result<()> {
        let bin = sibling_bin("qtm", "QTM_BIN")?;
        let log = OpenOptions::new().create(true).append(true).open(self.dir.join("qtm.log"))?;
        let mut child = Command::new(&bin)
            .arg("-configfile")
            .arg(self.dir.join("tessera-config.json"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .wrap_err_with(|| format!("spawning {}", bin.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| eyre!("qtm stdout not captured"))?;
        self.child = Some(child);
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = 0;
        while seen < 3 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("qtm listening app=") => seen += 1,
                Ok(_) => {}
                Err(_) => {
                    let log = std::fs::read_to_string(self.dir.join("qtm.log")).unwrap_or_default();
                    return Err(eyre!("qtm did not start; its log:\n{log}"));
                }
            }
        }
        Ok(())
    }

    /// Kills the TM.
    pub fn kill(&mut self) -> eyre::Result<()> {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            child.wait()?;
        }
        Ok(())
    }

    /// Starts it again with the same keys, ports and database.
    pub fn restart(&mut self) -> eyre::Result<()> {
        self.kill()?;
        self.spawn()
    }
}

impl Drop for Qtm {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
