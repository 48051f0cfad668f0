//! The processes of a network: one qnode per node and one qtm per member. Each runs with the
//! network directory as its working directory, in its own process group (a Ctrl-C in the
//! terminal reaches only `qnet`, which stops them in order), with stdout and stderr appended to
//! `D/logs/<name>.log` and its pid in `D/run/<name>.pid` (`<name>` is the node's name, or
//! `<node>-tm` for its TM).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{error::QnetError, network_json::NetworkJson, network_json::NodeEntry};

/// Log directory inside the network directory.
pub const LOGS: &str = "logs";
/// Pid file directory inside the network directory.
pub const RUN: &str = "run";
/// How long a process gets between SIGTERM and SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Which binary a service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// The node's qnode.
    Qnode,
    /// The member's qtm.
    Qtm,
}

impl ServiceKind {
    /// The binary's file name.
    pub fn binary(self) -> &'static str {
        match self {
            Self::Qnode => "qnode",
            Self::Qtm => "qtm",
        }
    }
}

/// One process of the network.
#[derive(Debug, Clone, Copy)]
pub struct Service<'a> {
    /// The node it belongs to.
    pub node: &'a NodeEntry,
    /// qnode or qtm.
    pub kind: ServiceKind,
}

impl Service<'_> {
    /// `validator1`, or `member1-tm` for a TM.
    pub fn name(&self) -> String {
        match self.kind {
            ServiceKind::Qnode => self.node.name.clone(),
            ServiceKind::Qtm => format!("{}-tm", self.node.name),
        }
    }

    /// `logs/<name>.log` (relative to the network directory).
    pub fn log_file(&self) -> PathBuf {
        Path::new(LOGS).join(format!("{}.log", self.name()))
    }

    /// `run/<name>.pid` (relative to the network directory).
    pub fn pid_file(&self) -> PathBuf {
        Path::new(RUN).join(format!("{}.pid", self.name()))
    }

    /// The command line (after the binary), to run from the network directory.
    pub fn args(&self, dir: &Path) -> Result<Vec<String>, QnetError> {
        match (self.kind, &self.node.tm) {
            (ServiceKind::Qnode, _) => self.node.qnode_args(dir),
            (ServiceKind::Qtm, Some(tm)) => {
                Ok(vec!["--configfile".into(), tm.config_file.display().to_string()])
            }
            (ServiceKind::Qtm, None) => Ok(Vec::new()),
        }
    }

    /// The pid recorded in its pid file, if that process is still this service's binary.
    pub fn running_pid(&self, dir: &Path) -> Option<u32> {
        let text = std::fs::read_to_string(dir.join(self.pid_file())).ok()?;
        let pid = text.trim().parse().ok()?;
        pid_alive(pid, self.kind.binary()).then_some(pid)
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, dir: &Path, lines: usize) -> String {
        let text = std::fs::read_to_string(dir.join(self.log_file())).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(lines).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

/// Every service of the network, in start order: the TMs (qnode checks its TM at start), then
/// the nodes.
pub fn services(net: &NetworkJson) -> Vec<Service<'_>> {
    let tms = net.nodes.iter().filter(|n| n.tm.is_some());
    let tms = tms.map(|node| Service { node, kind: ServiceKind::Qtm });
    let nodes = net.nodes.iter().map(|node| Service { node, kind: ServiceKind::Qnode });
    tms.chain(nodes).collect()
}

/// Whether `pid` is a live (not zombie) process whose executable is named `binary` (so a
/// recycled pid is not mistaken for ours).
pub fn pid_alive(pid: u32, binary: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z' | 'X') | None) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = Path::new(std::str::from_utf8(argv0).unwrap_or_default());
    argv0.file_name().is_some_and(|f| f == binary)
}

/// Sends `signal` to `pid`.
fn signal(pid: u32, signal: libc::c_int) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: kill(2) has no memory-safety preconditions; pid is a process we started (checked
    // to still run our binary) and signal is a valid constant.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// A running service process: spawned by this `qnet` (a [`Child`] to reap) or found through
/// its pid file.
#[derive(Debug)]
pub struct Proc {
    /// The service name (`validator1`, `member1-tm`).
    pub name: String,
    /// Its binary's file name.
    pub binary: &'static str,
    /// Its pid.
    pub pid: u32,
    /// Its pid file (absolute), removed when it is stopped.
    pub pid_file: PathBuf,
    child: Option<Child>,
}

impl Proc {
    /// Starts `service` with `binary` from `dir`, logging to its log file and recording its pid.
    pub fn spawn(dir: &Path, service: &Service<'_>, binary: &Path) -> Result<Self, QnetError> {
        let name = service.name();
        for sub in [LOGS, RUN] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| QnetError::io(dir.join(sub), e))?;
        }
        let log_path = dir.join(service.log_file());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| QnetError::io(&log_path, e))?;
        let log2 = log.try_clone().map_err(|e| QnetError::io(&log_path, e))?;
        let mut cmd = Command::new(binary);
        cmd.args(service.args(dir)?).current_dir(dir).stdin(Stdio::null()).stdout(log).stderr(log2);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().map_err(|source| QnetError::Process {
            what: format!("starting {name} ({})", binary.display()),
            source,
        })?;
        let pid_file = dir.join(service.pid_file());
        let pid = child.id();
        let mut proc =
            Self { name, binary: service.kind.binary(), pid, pid_file, child: Some(child) };
        if let Err(e) = std::fs::write(&proc.pid_file, format!("{pid}\n")) {
            proc.stop(&mut |_| {});
            return Err(QnetError::io(&proc.pid_file, e));
        }
        tracing::info!(target: "qnet::up", service = %proc.name, pid, "started");
        Ok(proc)
    }

    /// A process found through its pid file (not ours to reap).
    pub fn adopt(dir: &Path, service: &Service<'_>, pid: u32) -> Self {
        Self {
            name: service.name(),
            binary: service.kind.binary(),
            pid,
            pid_file: dir.join(service.pid_file()),
            child: None,
        }
    }

    /// `None` while it runs; once it has exited, how (its exit status, or `gone` for a process
    /// found through its pid file).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => Some(status.to_string()),
            Some(Ok(None)) => None,
            Some(Err(e)) => Some(e.to_string()),
            None => (!pid_alive(self.pid, self.binary)).then(|| "gone".to_owned()),
        }
    }

    /// Lets a spawned child outlive this `qnet` (`--detach`).
    pub fn release(mut self) {
        self.child = None;
    }

    /// SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]; removes its pid file.
    pub fn stop(&mut self, report: &mut dyn FnMut(&str)) {
        stop_all(std::slice::from_mut(self), report);
    }
}

/// Stops `procs` together: SIGTERM to all, waits for each up to [`STOP_TIMEOUT`], then SIGKILL
/// whatever still runs; removes their pid files.
pub fn stop_all(procs: &mut [Proc], report: &mut dyn FnMut(&str)) {
    for p in procs.iter_mut() {
        if p.exited().is_some() {
            continue;
        }
        if let Err(e) = signal(p.pid, libc::SIGTERM) {
            report(&format!("SIGTERM to {} (pid {}): {e}", p.name, p.pid));
        }
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while procs.iter_mut().any(|p| p.exited().is_none()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    for p in procs.iter_mut() {
        if p.exited().is_none() {
            report(&format!(
                "{} (pid {}) ignored SIGTERM for {STOP_TIMEOUT:?}: SIGKILL",
                p.name, p.pid
            ));
            let _ = signal(p.pid, libc::SIGKILL);
            if let Some(child) = p.child.as_mut() {
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_file(&p.pid_file);
    }
}

/// `qnet down`: stops every process recorded in `D/run` (nodes first, then their TMs) and
/// returns the names of those that were running.
pub fn down(dir: &Path, report: &mut dyn FnMut(&str)) -> Result<Vec<String>, QnetError> {
    let net = NetworkJson::load(dir)?;
    let mut nodes = Vec::new();
    let mut tms = Vec::new();
    for service in services(&net) {
        match service.running_pid(dir) {
            Some(pid) => {
                let proc = Proc::adopt(dir, &service, pid);
                if service.kind == ServiceKind::Qnode { nodes.push(proc) } else { tms.push(proc) }
            }
            // a stale pid file
            None => {
                let _ = std::fs::remove_file(dir.join(service.pid_file()));
            }
        }
    }
    let names = nodes.iter().chain(&tms).map(|p| p.name.clone()).collect();
    stop_all(&mut nodes, report);
    stop_all(&mut tms, report);
    Ok(names)
}
