//! Test harness: real `qtm` processes on loopback (port 0), configured with Tessera config
//! JSON, their bound URLs read from stdout.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use eyre::{Result, WrapErr, bail, eyre};
use qrs_enclave::PublicKey;
use serde_json::{Value, json};

/// Which database a node uses.
#[derive(Debug, Clone)]
pub enum Db {
    /// A SQLite file in the node's directory.
    Sqlite,
    /// A PostgreSQL schema (shared when two nodes name the same schema).
    Postgres(String),
}

/// How to configure a node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// Database.
    pub db: Db,
    /// Peers' P2P URLs.
    pub peers: Vec<String>,
    /// Remote key validation (None = leave the field out: qtm's default, on).
    pub validate_keys: Option<bool>,
    /// Serve Q2T on a unix socket instead of HTTP.
    pub unix_q2t: bool,
    /// Use this remote enclave URL instead of local keys.
    pub remote_enclave: Option<String>,
    /// Extra JSON merged into the P2P server config (e.g. sslConfig).
    pub p2p_extra: Option<Value>,
    /// Number of keys.
    pub keys: usize,
    /// Reuse these key files (prefixes) instead of generating.
    pub key_prefixes: Option<Vec<PathBuf>>,
    /// Use this P2P port (0 = any).
    pub p2p_port: u16,
    /// Use this directory (kept across restarts).
    pub dir: Option<PathBuf>,
    /// P2P scheme.
    pub https: bool,
    /// PartyInfo broadcast interval.
    pub party_info_interval_ms: u64,
    /// `RUST_LOG` for the process.
    pub log_filter: String,
    /// Extra command line arguments.
    pub extra_args: Vec<String>,
    /// Extra top-level config fields.
    pub extra_config: Option<Value>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            db: Db::Sqlite,
            peers: vec![],
            validate_keys: None,
            unix_q2t: false,
            remote_enclave: None,
            p2p_extra: None,
            keys: 1,
            key_prefixes: None,
            p2p_port: 0,
            dir: None,
            https: false,
            party_info_interval_ms: 300,
            log_filter: "info,qtm=debug".into(),
            extra_args: vec![],
            extra_config: None,
        }
    }
}

/// A running qtm process.
#[derive(Debug)]
pub struct Node {
    /// Options it was started with (updated for restarts).
    pub options: NodeOptions,
    /// Its directory.
    pub dir: PathBuf,
    _tempdir: Option<tempfile::TempDir>,
    child: Option<Child>,
    /// Q2T base URL (`http://...` or `unix:/...`).
    pub q2t: String,
    /// ThirdParty base URL.
    pub third_party: String,
    /// P2P base URL.
    pub p2p: String,
    /// Its public keys.
    pub keys: Vec<PublicKey>,
    /// The `qtm recovery done ...` line of the last `--recover` start.
    pub last_recovery: Option<String>,
}

/// PostgreSQL URL of the test database.
pub fn postgres_url(schema: &str) -> String {
    format!("jdbc:postgresql://127.0.0.1:5432/test?user=postgres&currentSchema={schema}")
}

/// Drops and recreates a PostgreSQL schema (fails loudly if PostgreSQL is not running).
pub async fn fresh_postgres_schema(schema: &str) -> Result<()> {
    let status = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
        ])
        .arg(format!("SET client_min_messages TO WARNING; DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"))
        .status()
        .wrap_err("running psql (PostgreSQL must be running on 127.0.0.1:5432)")?;
    if !status.success() {
        bail!("psql failed to create schema {schema}");
    }
    Ok(())
}

fn config_json(options: &NodeOptions, dir: &Path, key_prefixes: &[PathBuf]) -> Value {
    let jdbc = match &options.db {
        Db::Sqlite => {
            json!({"url": format!("jdbc:sqlite:{}/db.sqlite", dir.display()), "username": "", "password": ""})
        }
        Db::Postgres(schema) => json!({"url": postgres_url(schema), "autoCreateTables": true}),
    };
    let q2t = if options.unix_q2t {
        json!({"app": "Q2T", "enabled": true, "serverAddress": format!("unix:{}/tm.ipc", dir.display()), "communicationType": "REST"})
    } else {
        json!({"app": "Q2T", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"})
    };
    let scheme = if options.https { "https" } else { "http" };
    let mut p2p = json!({
        "app": "P2P", "enabled": true,
        "serverAddress": format!("{scheme}://127.0.0.1:{}", options.p2p_port),
        "communicationType": "REST",
        "properties": {"partyInfoInterval": options.party_info_interval_ms.to_string()}
    });
    if let (Some(Value::Object(extra)), Some(obj)) = (&options.p2p_extra, p2p.as_object_mut()) {
        obj.extend(extra.clone());
    }
    let mut servers = vec![
        q2t,
        json!({"app": "ThirdParty", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"}),
        p2p,
    ];
    let mut config = json!({
        "useWhiteList": false,
        "jdbc": jdbc,
        "peer": options.peers.iter().map(|p| json!({"url": p})).collect::<Vec<_>>(),
        "alwaysSendTo": [],
        "features": {"enablePrivacyEnhancements": true},
    });
    if let Some(v) = options.validate_keys {
        config["features"]["enableRemoteKeyValidation"] = json!(v);
    }
    match &options.remote_enclave {
        Some(url) => servers.push(json!({"app": "ENCLAVE", "enabled": true, "serverAddress": url, "communicationType": "REST"})),
        None => {
            config["keys"] = json!({
                "passwords": [],
                "keyData": key_prefixes.iter().map(|p| json!({
                    "privateKeyPath": format!("{}.key", p.display()),
                    "publicKeyPath": format!("{}.pub", p.display()),
                })).collect::<Vec<_>>()
            });
        }
    }
    config["serverConfigs"] = json!(servers);
    if let (Some(Value::Object(extra)), Some(obj)) = (&options.extra_config, config.as_object_mut())
    {
        obj.extend(extra.clone());
    }
    config
}

/// Generates `n` unlocked key pairs in `dir`.
pub fn generate_keys(dir: &Path, n: usize, prefix: &str) -> Result<(Vec<PathBuf>, Vec<PublicKey>)> {
    let mut prefixes = Vec::new();
    let mut keys = Vec::new();
    for i in 0..n {
        let p = dir.join(format!("{prefix}{i}"));
        keys.push(qrs_enclave::generate_key_files(&p, None)?);
        prefixes.push(p);
    }
    Ok((prefixes, keys))
}

fn read_keys(prefixes: &[PathBuf]) -> Result<Vec<PublicKey>> {
    prefixes
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(format!("{}.pub", p.display()))?;
            text.trim().parse::<PublicKey>().map_err(|e| eyre!("{e}"))
        })
        .collect()
}

impl Node {
    /// Starts a node.
    pub async fn start(options: NodeOptions) -> Result<Self> {
        let (tempdir, dir) = match &options.dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::tempdir()?;
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        let mut options = options;
        let (prefixes, keys) = match &options.key_prefixes {
            Some(p) => (p.clone(), read_keys(p)?),
            None if options.remote_enclave.is_some() => (vec![], vec![]),
            None => generate_keys(&dir, options.keys, "tm")?,
        };
        options.key_prefixes = Some(prefixes);
        let mut node = Node {
            options,
            dir,
            _tempdir: tempdir,
            child: None,
            q2t: String::new(),
            third_party: String::new(),
            p2p: String::new(),
            keys,
            last_recovery: None,
        };
        node.spawn().await?;
        if node.keys.is_empty() {
            node.keys = node.local_keys().await?;
        }
        Ok(node)
    }

    async fn spawn(&mut self) -> Result<()> {
        let prefixes = self.options.key_prefixes.clone().unwrap_or_default();
        let config = config_json(&self.options, &self.dir, &prefixes);
        let config_path = self.dir.join("tessera-config.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("qtm.log"))?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_qtm"))
            .arg("-configfile")
            .arg(&config_path)
            .args(&self.options.extra_args)
            .env("RUST_LOG", &self.options.log_filter)
            .stdout(Stdio::piped())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .wrap_err("spawning qtm")?;
        let stdout = child.stdout.take().ok_or_else(|| eyre!("no stdout"))?;
        self.child = Some(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut q2t, mut tp, mut p2p) = (None, None, None);
        let recovering = self.options.extra_args.iter().any(|a| a == "--recover");
        let mut recovered = !recovering;
        while q2t.is_none() || tp.is_none() || p2p.is_none() || !recovered {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => bail!("qtm did not print its addresses; log:\n{}", self.log()),
            };
            if line.starts_with("qtm recovery done") {
                recovered = true;
                self.last_recovery = Some(line);
                continue;
            }
            let Some(rest) = line.strip_prefix("qtm listening app=") else { continue };
            let Some((app, url)) = rest.split_once(" url=") else { continue };
            match app {
                "Q2T" => q2t = Some(url.to_owned()),
                "ThirdParty" => tp = Some(url.to_owned()),
                "P2P" => p2p = Some(url.to_owned()),
                _ => {}
            }
        }
        self.q2t = q2t.unwrap_or_default();
        self.third_party = tp.unwrap_or_default();
        self.p2p = p2p.unwrap_or_default();
        // Restarts reuse the P2P port so peers keep reaching us.
        if let Some(port) = self.p2p.rsplit(':').next().and_then(|p| p.parse().ok()) {
            self.options.p2p_port = port;
        }
        Ok(())
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("qtm.log")).unwrap_or_default()
    }

    /// Kills the process (SIGKILL: nothing gets flushed on the way out).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills and starts again with the same directory, keys and P2P port.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill();
        self.spawn().await
    }

    /// The default key.
    pub fn key(&self) -> PublicKey {
        self.keys[0]
    }

    /// `GET /keys` on ThirdParty.
    pub async fn local_keys(&self) -> Result<Vec<PublicKey>> {
        let v: Value =
            http().get(format!("{}/keys", self.third_party)).send().await?.json().await?;
        parse_key_list(&v)
    }

    /// `GET /partyinfo/keys` on ThirdParty.
    pub async fn party_keys(&self) -> Result<Vec<PublicKey>> {
        let v: Value =
            http().get(format!("{}/partyinfo/keys", self.third_party)).send().await?.json().await?;
        parse_key_list(&v)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn parse_key_list(v: &Value) -> Result<Vec<PublicKey>> {
    v["keys"]
        .as_array()
        .ok_or_else(|| eyre!("no keys array in {v}"))?
        .iter()
        .map(|k| {
            k["key"].as_str().unwrap_or_default().parse::<PublicKey>().map_err(|e| eyre!("{e}"))
        })
        .collect()
}

/// A shared HTTP client.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// Base64 of bytes.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Path-escapes a base64 hash like GoQuorum (`/` → `%2F`, `+` and `=` kept).
pub fn path_escape(hash: &str) -> String {
    hash.replace('/', "%2F")
}

/// Number of payloads in the node's store (read through the store crate, next to the
/// running process).
pub async fn store_count(node: &Node) -> Result<u64> {
    use qrs_tm_store::{StoreUrl, open_store};
    let url = match &node.options.db {
        Db::Sqlite => StoreUrl::Sqlite { path: node.dir.join("db.sqlite") },
        Db::Postgres(schema) => StoreUrl::parse(&postgres_url(schema))?,
    };
    Ok(open_store(&url).await?.count().await?)
}

/// Starts a `qenclave` process serving `key_prefixes`; returns its URL and the child.
pub async fn start_qenclave(dir: &Path, key_prefixes: &[PathBuf]) -> Result<(String, ChildGuard)> {
    let bin = qenclave_binary()?;
    let config = json!({
        "serverConfigs": [{"app": "ENCLAVE", "enabled": true, "serverAddress": "http://127.0.0.1:0", "communicationType": "REST"}],
        "keys": {"keyData": key_prefixes.iter().map(|p| json!({
            "privateKeyPath": format!("{}.key", p.display()),
            "publicKeyPath": format!("{}.pub", p.display()),
        })).collect::<Vec<_>>()},
        "alwaysSendTo": []
    });
    let path = dir.join("enclave-config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&config)?)?;
    let log = std::fs::File::create(dir.join("qenclave.log"))?;
    let mut child = Command::new(&bin)
        .arg("-configfile")
        .arg(&path)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .wrap_err_with(|| format!("spawning {}", bin.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| eyre!("no stdout"))?;
    let guard = ChildGuard(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url =
        rx.recv_timeout(Duration::from_secs(60)).map_err(|_| eyre!("qenclave did not start"))?;
    Ok((url, guard))
}

/// Kills a child process on drop.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `qenclave` binary next to `qtm`, built with cargo if it is not there yet.
fn qenclave_binary() -> Result<PathBuf> {
    let qtm = PathBuf::from(env!("CARGO_BIN_EXE_qtm"));
    let dir = qtm.parent().ok_or_else(|| eyre!("no bin dir"))?;
    let bin = dir.join("qenclave");
    if bin.exists() {
        return Ok(bin);
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "qrs-enclave", "--bin", "qenclave"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .wrap_err("building qenclave")?;
    if !status.success() || !bin.exists() {
        bail!("qenclave could not be built at {}", bin.display());
    }
    Ok(bin)
}

/// Waits until every node lists every key in `/partyinfo/keys`.
pub async fn wait_for_discovery(nodes: &[&Node]) -> Result<()> {
    let all: Vec<PublicKey> = nodes.iter().flat_map(|n| n.keys.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut done = true;
        for node in nodes {
            let known = node.party_keys().await.unwrap_or_default();
            if !all.iter().all(|k| known.contains(k)) {
                done = false;
            }
        }
        if done {
            return Ok(());
        }
        if Instant::now() > deadline {
            let mut report = String::new();
            for node in nodes {
                report.push_str(&format!(
                    "{} knows {:?}\n",
                    node.p2p,
                    node.party_keys().await.unwrap_or_default()
                ));
            }
            bail!("discovery did not converge:\n{report}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Three nodes on SQLite, B and C peered to A, once all know each other.
pub async fn three_nodes(options: NodeOptions) -> Result<(Node, Node, Node)> {
    three_nodes_on(options, [Db::Sqlite, Db::Sqlite, Db::Sqlite]).await
}

/// [`three_nodes`] on the given databases.
pub async fn three_nodes_on(options: NodeOptions, dbs: [Db; 3]) -> Result<(Node, Node, Node)> {
    let [da, db, dc] = dbs;
    let a = Node::start(NodeOptions { db: da, ..options.clone() }).await?;
    let b = Node::start(NodeOptions { db, peers: vec![a.p2p.clone()], ..options.clone() }).await?;
    let c = Node::start(NodeOptions { db: dc, peers: vec![a.p2p.clone()], ..options }).await?;
    wait_for_discovery(&[&a, &b, &c]).await?;
    Ok((a, b, c))
}

/// `POST /send` with plain JSON; returns the hash.
pub async fn send(from: &Node, payload: &[u8], to: &[PublicKey]) -> Result<String> {
    let body = json!({"payload": b64(payload), "from": from.key(), "to": to});
    let resp = http().post(format!("{}/send", from.q2t)).json(&body).send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    if status.as_u16() != 201 {
        bail!("send failed: {status} {text}");
    }
    let v: Value = serde_json::from_str(&text)?;
    Ok(v["key"].as_str().ok_or_else(|| eyre!("no key in {text}"))?.to_owned())
}

/// `GET /transaction/{hash}`: `Some(payload)` on 200, `None` on 404, error otherwise.
pub async fn receive(node: &Node, hash: &str) -> Result<Option<Vec<u8>>> {
    let resp = http().get(format!("{}/transaction/{}", node.q2t, path_escape(hash))).send().await?;
    match resp.status().as_u16() {
        200 => {
            let v: Value = resp.json().await?;
            Ok(Some(STANDARD.decode(v["payload"].as_str().unwrap_or_default())?))
        }
        404 => Ok(None),
        s => bail!("receive on {} answered {s}: {}", node.q2t, resp.text().await?),
    }
}

/// One HTTP/1.1 request over a unix socket; returns status and body.
pub async fn unix_request(
    socket: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::UnixStream::connect(socket).await?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let split =
        response.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| eyre!("no header end"))?;
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status: u16 = head.split_whitespace().nth(1).unwrap_or("0").parse()?;
    let mut body = response[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}
