//! Helpers for the `qnet up/status/down` tests: running the qnet binary with the sibling qnode
//! and qtm, a guard that takes a network down, and checks that every URL of network.json answers.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use qrs_qnet::{
    NetworkJson,
    run::{probe::Probe, procs::pid_alive, ws::ws_rpc},
};
use serde_json::{Value, json};

use crate::common::{free_base, sibling_bin};

/// Output of a qnet run, with both streams as text.
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// The directory holding the freshly built qnode and qtm (checked to exist).
pub fn bin_dir() -> PathBuf {
    let qnode = sibling_bin("qnode");
    sibling_bin("qtm");
    qnode.parent().unwrap().to_owned()
}

/// Runs `qnet <args>` and collects its output.
pub fn qnet_run(args: &[&str]) -> Run {
    let started = Instant::now();
    let out: Output = Command::new(env!("CARGO_BIN_EXE_qnet")).args(args).output().unwrap();
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// A network directory (inside a temp dir) taken down with `qnet down` when dropped, so a
/// failing test leaves no processes behind.
pub struct NetDir {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub base: u16,
}

impl NetDir {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("net");
        Self { _tmp: tmp, dir, base: free_base(64) }
    }

    pub fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// `qnet up --dir D --detach` with the sibling binaries, a free port range, cheap scrypt
    /// and `extra` options.
    pub fn up(&self, extra: &[&str]) -> Run {
        let base = self.base.to_string();
        let bins = bin_dir();
        let mut args =
            vec!["up", "--dir", self.path(), "--detach", "--base-port", &base, "--lightkdf"];
        args.extend(["--bin-dir", bins.to_str().unwrap(), "--timeout", "50"]);
        args.extend(extra);
        qnet_run(&args)
    }

    /// `qnet up` in the foreground (1 validator, 1 member, 1 s blocks), returned once it reports
    /// the network up.
    pub fn up_foreground(&self) -> ForegroundUp {
        use std::io::{BufRead as _, BufReader};
        let base = self.base.to_string();
        let bins = bin_dir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_qnet"))
            .args(["up", "--dir", self.path(), "--base-port", &base, "--lightkdf"])
            .args(["--validators", "1", "--members", "1", "--block-period", "1", "--timeout", "50"])
            .args(["--bin-dir", bins.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready =
            stdout.by_ref().map_while(Result::ok).any(|l| l.contains("Ctrl-C stops the network"));
        assert!(ready, "qnet up never reported the network up: {:?}", child.wait());
        ForegroundUp { child, _stdout: stdout }
    }

    pub fn status(&self) -> Run {
        qnet_run(&["status", "--dir", self.path()])
    }

    pub fn down(&self) -> Run {
        qnet_run(&["down", "--dir", self.path()])
    }

    pub fn json(&self) -> NetworkJson {
        NetworkJson::load(&self.dir).unwrap()
    }

    /// The pid recorded for `name` (`validator1`, `member1-tm`).
    pub fn pid(&self, name: &str) -> u32 {
        let path = self.dir.join("run").join(format!("{name}.pid"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .parse()
            .unwrap()
    }

    /// Every service name with its binary (TMs and nodes).
    pub fn services(&self) -> Vec<(String, &'static str)> {
        let json = self.json();
        let tms =
            json.nodes.iter().filter(|n| n.tm.is_some()).map(|n| (format!("{}-tm", n.name), "qtm"));
        let nodes = json.nodes.iter().map(|n| (n.name.clone(), "qnode"));
        tms.chain(nodes).collect()
    }
}

impl Drop for NetDir {
    fn drop(&mut self) {
        if self.dir.join("network.json").is_file() {
            let _ = self.down();
        }
    }
}

/// SIGKILLs `pid` (a process of the test's network).
pub fn kill9(pid: u32) {
    let status = Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -9 {pid}");
}

/// Polls until `pid` no longer runs `binary` (10 s).
pub fn wait_gone(pid: u32, binary: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(pid, binary) {
        assert!(Instant::now() < deadline, "{binary} pid {pid} still runs");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every URL in network.json answers: RPC and WS with the chain id, each TM API's /upcheck,
/// and the ThirdParty API with the TM's own key.
pub fn every_url_answers(dir: &Path) {
    let json = NetworkJson::load(dir).unwrap();
    let probe = Probe::new().unwrap();
    let chain_id = format!("{:#x}", json.chain_id);
    for n in &json.nodes {
        let id = probe
            .rpc(&n.rpc, "eth_chainId", json!([]))
            .unwrap_or_else(|e| panic!("{} RPC: {e}", n.name));
        assert_eq!(id, chain_id.as_str(), "{} RPC", n.name);
        let id = ws_rpc(&n.ws, "eth_chainId", json!([]), Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{} WS {}: {e}", n.name, n.ws));
        assert_eq!(id, chain_id.as_str(), "{} WS", n.name);
        let accounts = probe.rpc(&n.rpc, "eth_accounts", json!([])).unwrap();
        assert_eq!(
            accounts,
            json!([format!("{:#x}", n.account)]),
            "{}'s account is unlocked",
            n.name
        );
        if let Some(tm) = &n.tm {
            for url in [&tm.third_party, &tm.q2t, &tm.p2p] {
                probe.tm_up(url).unwrap_or_else(|e| panic!("{} TM {url}: {e}", n.name));
            }
            let keys: Value =
                serde_json::from_str(&probe.get_text(&format!("{}/keys", tm.third_party)).unwrap())
                    .unwrap();
            assert_eq!(keys["keys"][0]["key"], tm.public_key.as_str(), "{}", n.name);
        }
    }
}

/// The required network.json fields are all there.
pub fn network_json_is_complete(dir: &Path) {
    let text = std::fs::read_to_string(dir.join("network.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["chainId"].is_u64() && v["consensus"].is_string(), "{v}");
    for n in v["nodes"].as_array().unwrap() {
        for field in ["name", "role", "rpc", "ws", "account", "accountKeyFile"] {
            assert!(n[field].is_string(), "{field} missing in {n}");
        }
        assert!(dir.join(n["accountKeyFile"].as_str().unwrap()).is_file(), "{n}");
        if n["role"] == "member" {
            for field in ["thirdParty", "q2t", "p2p", "publicKey"] {
                assert!(n["tm"][field].is_string(), "tm.{field} missing in {n}");
            }
        } else {
            assert!(n.get("tm").is_none(), "{n}");
        }
    }
}

/// A `qnet up` running in the foreground. Its stdout stays open so it never writes to a closed
/// pipe.
pub struct ForegroundUp {
    pub child: std::process::Child,
    _stdout: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl ForegroundUp {
    /// Sends `signal` and waits at most `secs` for `qnet up` to exit; returns its status.
    pub fn stop(&mut self, signal: i32, secs: u64) -> std::process::ExitStatus {
        // SAFETY: kill(2) on the qnet child this test spawned.
        assert_eq!(unsafe { libc::kill(self.child.id() as libc::pid_t, signal) }, 0);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "qnet up did not exit on signal {signal}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
