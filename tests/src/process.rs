//! Running `qnode` processes: spawn on port 0, parse the endpoints the node prints, stop with
//! SIGTERM or SIGKILL, restart on the same data directory, kill on drop.

use std::{
    ffi::OsString,
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use eyre::{WrapErr, eyre};

use crate::{binary::qnode_bin, rpc::Rpc};

/// How long a node may take to print its endpoints.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a node may take to exit after SIGTERM.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// First line the harness writes to the log before each start.
const RUN_MARKER: &str = "===== qrs-e2e:";
/// Every namespace qnode serves.
pub const ALL_APIS: &str = "eth,net,web3,txpool,debug,personal,admin,istanbul,raft";

/// What to start: the flags of one `qnode` run (kept for restarts).
#[derive(Debug, Clone)]
pub struct QNodeOptions {
    /// `--datadir`.
    pub datadir: PathBuf,
    /// `--dev`.
    pub dev: bool,
    /// `--mine`.
    pub mine: bool,
    /// Serve WebSocket too (`--ws --ws.port 0`).
    pub ws: bool,
    /// Further flags, appended as given.
    pub extra: Vec<String>,
}

impl QNodeOptions {
    /// A dev chain (`--dev`, chain id 1337, funded and unlocked dev account) with HTTP and WS.
    pub fn dev(datadir: impl Into<PathBuf>) -> Self {
        Self { datadir: datadir.into(), dev: true, mine: false, ws: true, extra: Vec::new() }
    }

    /// A chain initialised with `qnode init` (no local block production unless [`Self::mine`]).
    pub fn chain(datadir: impl Into<PathBuf>) -> Self {
        Self { datadir: datadir.into(), dev: false, mine: false, ws: false, extra: Vec::new() }
    }

    /// Adds `--mine`.
    pub fn mine(mut self) -> Self {
        self.mine = true;
        self
    }

    /// Adds one flag (or flag value).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra.push(arg.into());
        self
    }

    /// The full command line after the binary.
    pub fn args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        if self.dev {
            a.push("--dev".into());
        }
        if self.mine {
            a.push("--mine".into());
        }
        a.push("--datadir".into());
        a.push(self.datadir.clone().into_os_string());
        for s in ["--http", "--http.addr", "127.0.0.1", "--http.port", "0", "--http.api", ALL_APIS]
        {
            a.push(s.into());
        }
        if self.ws {
            for s in ["--ws", "--ws.addr", "127.0.0.1", "--ws.port", "0", "--ws.api", ALL_APIS] {
                a.push(s.into());
            }
        }
        // p2p on a free port (without --dev qnode listens on 30303 by default); a `--port` in
        // `extra` overrides this one
        if !self.dev {
            a.extend(["--port".into(), "0".into()]);
        }
        a.extend(self.extra.iter().map(OsString::from));
        a
    }

    /// Where the node's stderr goes: `<datadir>.log` (appended across restarts).
    pub fn log_path(&self) -> PathBuf {
        let mut name =
            self.datadir.file_name().map(OsString::from).unwrap_or_else(|| "qnode".into());
        name.push(".log");
        self.datadir.with_file_name(name)
    }
}

/// `qnode init --datadir <datadir> <genesis>`: runs to completion and returns its output.
pub fn run_init(datadir: &Path, genesis: &Path) -> eyre::Result<Output> {
    let bin = qnode_bin()?;
    Command::new(&bin)
        .arg("init")
        .arg("--datadir")
        .arg(datadir)
        .arg(genesis)
        .stdin(Stdio::null())
        .output()
        .wrap_err_with(|| format!("running {} init", bin.display()))
}

/// A running (or stopped) `qnode` process. Dropping it kills the process.
#[derive(Debug)]
pub struct QNode {
    opts: QNodeOptions,
    child: Option<Child>,
    http: String,
    ws: Option<String>,
    starts: u32,
}

impl QNode {
    /// Starts a node and waits until it has printed its endpoints.
    pub fn start(opts: QNodeOptions) -> eyre::Result<Self> {
        let mut node = Self { opts, child: None, http: String::new(), ws: None, starts: 0 };
        node.spawn()?;
        Ok(node)
    }

    fn spawn(&mut self) -> eyre::Result<()> {
        if self.child.is_some() {
            return Err(eyre!("qnode is already running"));
        }
        let bin = qnode_bin()?;
        self.starts += 1;
        let log_path = self.opts.log_path();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .wrap_err_with(|| format!("opening {}", log_path.display()))?;
        writeln!(log, "{RUN_MARKER} start #{} =====", self.starts)?;
        let mut child = Command::new(&bin)
            .args(self.opts.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .wrap_err_with(|| format!("spawning {}", bin.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| eyre!("qnode stdout not captured"))?;
        self.child = Some(child);
        let (tx, rx) = mpsc::channel::<String>();
        // The reader keeps draining stdout for the life of the process so it never blocks.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let (http, ws) = self.await_endpoints(&rx)?;
        self.http = http;
        self.ws = ws;
        Ok(())
    }

    fn await_endpoints(
        &mut self,
        rx: &mpsc::Receiver<String>,
    ) -> eyre::Result<(String, Option<String>)> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let (mut http, mut ws) = (None, None);
        while http.is_none() || (self.opts.ws && ws.is_none()) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("qnode listening http=") {
                        http = Some(url.trim().to_string());
                    } else if let Some(url) = line.strip_prefix("qnode listening ws=") {
                        ws = Some(url.trim().to_string());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.wait_exit(Duration::from_secs(5))?;
                    return Err(eyre!(
                        "qnode exited ({status:?}) before printing its endpoints; its log:\n{}",
                        self.current_run_log(120)
                    ));
                }
            }
            if Instant::now() > deadline {
                self.kill()?;
                return Err(eyre!(
                    "qnode did not print its endpoints within {STARTUP_TIMEOUT:?}; its log:\n{}",
                    self.current_run_log(120)
                ));
            }
        }
        let http = http.ok_or_else(|| eyre!("no http endpoint"))?;
        Ok((http, ws))
    }

    /// The options this node runs with.
    pub fn options(&self) -> &QNodeOptions {
        &self.opts
    }

    /// `http://127.0.0.1:PORT` of the current run.
    pub fn http_url(&self) -> &str {
        &self.http
    }

    /// `ws://127.0.0.1:PORT` of the current run.
    pub fn ws_url(&self) -> eyre::Result<&str> {
        self.ws.as_deref().ok_or_else(|| eyre!("this node was started without --ws"))
    }

    /// A JSON-RPC client for the current run.
    pub fn rpc(&self) -> eyre::Result<Rpc> {
        Rpc::new(&self.http)
    }

    /// Process id of the current run.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// SIGTERM, then waits for a clean exit (SIGKILL and an error when it does not come in time).
    pub fn terminate(&mut self) -> eyre::Result<ExitStatus> {
        let pid = self.pid().ok_or_else(|| eyre!("qnode is not running"))?;
        let pid = libc::pid_t::try_from(pid).wrap_err("pid out of range")?;
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped) and a valid signal.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        if rc != 0 {
            return Err(eyre!("kill(SIGTERM) failed: {}", std::io::Error::last_os_error()));
        }
        match self.wait_exit(SHUTDOWN_TIMEOUT) {
            Ok(status) => Ok(status),
            Err(e) => {
                self.kill()?;
                Err(e.wrap_err(format!(
                    "qnode did not exit within {SHUTDOWN_TIMEOUT:?} after SIGTERM"
                )))
            }
        }
    }

    /// SIGKILL (`kill -9`) and reap.
    pub fn kill(&mut self) -> eyre::Result<()> {
        if let Some(mut child) = self.child.take() {
            if child.try_wait()?.is_none() {
                child.kill().wrap_err("SIGKILL")?;
            }
            child.wait().wrap_err("reaping qnode")?;
        }
        Ok(())
    }

    /// Starts the node again with the same flags and data directory (it must be stopped).
    pub fn restart(&mut self) -> eyre::Result<()> {
        if self.is_running() {
            return Err(eyre!("restart: qnode is still running"));
        }
        self.child = None;
        self.spawn()
    }

    fn wait_exit(&mut self, timeout: Duration) -> eyre::Result<ExitStatus> {
        let child = self.child.as_mut().ok_or_else(|| eyre!("qnode is not running"))?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(eyre!("qnode still running after {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log of the current (or last) run: its first and last `max_lines / 2` lines.
    pub fn current_run_log(&self, max_lines: usize) -> String {
        let path = self.opts.log_path();
        let Ok(file) = File::open(&path) else { return format!("(no log at {})", path.display()) };
        let all: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
        let start = all.iter().rposition(|l| l.starts_with(RUN_MARKER)).unwrap_or(0);
        let run = &all[start..];
        if run.len() <= max_lines {
            return run.join("\n");
        }
        let half = max_lines / 2;
        format!(
            "{}\n[... {} lines ...]\n{}",
            run[..half].join("\n"),
            run.len() - 2 * half,
            run[run.len() - half..].join("\n")
        )
    }

    /// The last `lines` lines of the node's log (stderr of every run).
    pub fn log_tail(&self, lines: usize) -> String {
        self.log_tail_without(lines, &[])
    }

    /// The last `lines` lines of the log that contain none of `noise` (e.g. Raft heartbeats,
    /// which fill a debug log's tail within seconds).
    pub fn log_tail_without(&self, lines: usize, noise: &[&str]) -> String {
        let path = self.opts.log_path();
        let Ok(file) = File::open(&path) else { return format!("(no log at {})", path.display()) };
        let all: Vec<String> = BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter(|l| !noise.iter().any(|n| l.contains(n)))
            .collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for QNode {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- qnode log tail ({}) ----\n{}",
                self.opts.log_path().display(),
                self.log_tail(60)
            );
        }
        let _ = self.kill();
    }
}
