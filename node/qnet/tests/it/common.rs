//! Shared helpers: free port ranges, generating a network, finding sibling binaries.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use qrs_keystore::ScryptCost;
use qrs_qnet::{Consensus, InitOptions, Layout, NetworkJson, NetworkSpec, PortScheme};

/// A generated network in a temporary directory.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub json: NetworkJson,
}

impl Net {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A base port whose next `count` (≤ 256) ports are free and reserved for this test process
/// (below the ephemeral range, locked across test processes: `qrs_e2e::ports`).
pub fn free_base(count: u16) -> u16 {
    qrs_e2e::ports::reserve_range(count).unwrap()
}

/// Generates a network with the library (light scrypt) on a free port range.
pub fn network(consensus: Consensus, validators: usize, members: usize) -> Net {
    let spec = NetworkSpec {
        consensus,
        validators,
        members,
        ports: PortScheme::Compact(free_base(64)),
        ..NetworkSpec::default()
    };
    network_with(spec)
}

/// Generates `spec` with the library (light scrypt).
pub fn network_with(spec: NetworkSpec) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(spec).unwrap();
    let options = InitOptions { force: false, scrypt: ScryptCost::Light, repo: repo_root() };
    let json = qrs_qnet::init(dir.path(), &layout, &options).unwrap();
    Net { dir, json }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap()
}

/// A binary built next to the test executable (`target/<profile>/<name>`); fails loudly.
pub fn sibling_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{name} binary not found at {}: build it first (`cargo build -p qrs-node -p qrs-qtm --bins`)",
        path.display()
    );
    path
}

/// Runs the `qnet` binary.
pub fn qnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qnet")).args(args).output().unwrap()
}

/// Reads a file under the network directory.
pub fn read(dir: &Path, rel: impl AsRef<Path>) -> String {
    let path = dir.join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A child process killed on drop, with its stdout lines on a channel.
pub struct Proc {
    pub child: std::process::Child,
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Spawns `cmd` with stdout piped into [`Proc::lines`] (stderr as `cmd` says; inherited by
    /// default).
    pub fn spawn(mut cmd: Command) -> Self {
        use std::io::BufRead as _;
        let mut child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self { child, lines }
    }

    /// Collects stdout lines starting with `prefix` until `count` were seen (30 s at most).
    pub fn wait_lines(&mut self, prefix: &str, count: usize) -> Vec<String> {
        self.try_wait_lines(prefix, count).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Proc::wait_lines`], with the failure (timeout or exit) as an error.
    pub fn try_wait_lines(&mut self, prefix: &str, count: usize) -> Result<Vec<String>, String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut found = Vec::new();
        while found.len() < count {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => found.push(line),
                Ok(_) => {}
                Err(e) => {
                    return Err(format!(
                        "waiting for {count} `{prefix}` lines (got {found:?}): {e}; exit: {:?}",
                        self.child.try_wait()
                    ));
                }
            }
        }
        Ok(found)
    }
}

/// One JSON-RPC call over HTTP; panics on transport or JSON-RPC errors.
pub fn rpc(url: &str, method: &str, params: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let resp: serde_json::Value =
        reqwest::blocking::Client::new().post(url).json(&body).send().unwrap().json().unwrap();
    assert!(resp.get("error").is_none(), "{method}: {resp}");
    resp["result"].clone()
}

/// Splits a command line into flags with their values (a generated value never starts with
/// `--`).
pub fn pairs(flags: &[String]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        let flag = flags[i].clone();
        assert!(flag.starts_with("--"), "value without a flag: {flag}");
        let value = flags.get(i + 1).filter(|v| !v.starts_with("--")).cloned();
        i += 1 + usize::from(value.is_some());
        out.push((flag, value));
    }
    out
}

/// The generated flags `binary` accepts, found by letting its parser judge them: `binary
/// <flags> --help` succeeds only when every flag (hidden ones included) and value parses; an
/// unknown flag is dropped and the rest tried again. Returns (accepted args, dropped flags).
pub fn accepted(binary: &std::path::Path, flags: &[String]) -> (Vec<String>, Vec<String>) {
    let mut kept = pairs(flags);
    let mut dropped = Vec::new();
    loop {
        let args: Vec<String> =
            kept.iter().flat_map(|(f, v)| std::iter::once(f.clone()).chain(v.clone())).collect();
        let out = Command::new(binary).args(&args).arg("--help").output().unwrap();
        if out.status.success() {
            return (args, dropped);
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let unknown = err
            .split("unexpected argument '")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("qnode refused the generated flags: {err}"));
        let before = kept.len();
        kept.retain(|(f, _)| f != unknown);
        assert!(kept.len() < before, "{unknown} is not a generated flag: {err}");
        dropped.push(unknown.to_owned());
    }
}

/// Checks that `binary` takes every generated flag (failing with the list it refuses), then
/// spawns the node's generated `start.sh` with `$QNODE` = `binary`. Its stderr goes to `log`
/// (inherited when `None`); when the node does not come up, the failure shows the log's tail.
pub fn start_node(
    dir: &Path,
    node: &qrs_qnet::NodeEntry,
    binary: &Path,
    log: Option<&Path>,
) -> Proc {
    let (_, dropped) = accepted(binary, &node.qnode_args(dir).unwrap());
    assert!(dropped.is_empty(), "qnode refuses the generated flags {dropped:?} of {}", node.name);
    let stderr = match log {
        Some(path) => std::fs::File::create(path).unwrap().into(),
        None => std::process::Stdio::inherit(),
    };
    let mut cmd = Command::new("sh");
    cmd.arg(dir.join(&node.start_script)).env("QNODE", binary).stderr(stderr);
    let mut p = Proc::spawn(cmd);
    let http = match p.try_wait_lines("qnode listening http=", 1) {
        Ok(mut lines) => lines.remove(0),
        Err(e) => {
            let tail = log.map(log_tail).unwrap_or_default();
            panic!("{} did not start: {e}\n--- stderr tail ---\n{tail}", node.name)
        }
    };
    assert_eq!(http.trim_start_matches("qnode listening http=").trim(), node.rpc);
    p
}

/// The last 40 lines of a log file.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("({e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
