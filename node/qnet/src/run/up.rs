//! `qnet up`: initialise the directory if it is empty, start every TM then every node that is
//! not already running, and wait until the whole network is healthy. If that fails (a process
//! exits, the timeout passes, SIGINT/SIGTERM arrives) everything this run started is stopped
//! again and the error names the unhealthy nodes with the end of their logs.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use super::{
    bins::Binaries,
    ports::check_free,
    probe::Probe,
    procs::{Proc, Service, ServiceKind, services, stop_all},
    status::NetworkStatus,
};
use crate::{
    error::QnetError,
    generate::{InitOptions, init},
    layout::{Consensus, Layout},
    network_json::{NETWORK_JSON, NetworkJson},
};

/// Set by SIGINT/SIGTERM once [`install_signal_handlers`] ran.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Routes SIGINT and SIGTERM to a flag that `up` and [`Started::run_until_signal`] poll.
pub fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic (async-signal-safe).
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Whether SIGINT/SIGTERM arrived since [`install_signal_handlers`].
pub(crate) fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// How `up` runs.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Where qnode and qtm are (default: next to qnet, then `$PATH`).
    pub bin_dir: Option<PathBuf>,
    /// How long the network may take to become healthy.
    pub timeout: Duration,
}

/// A healthy network, with the processes this run started.
#[derive(Debug)]
pub struct Started {
    /// The network directory.
    pub dir: PathBuf,
    /// Its `network.json`.
    pub net: NetworkJson,
    /// Whether `up` generated the network first.
    pub initialised: bool,
    /// Services that were already running.
    pub already_running: Vec<String>,
    /// The last health snapshot (all healthy).
    pub status: NetworkStatus,
    procs: Vec<Proc>,
}

/// Loads `D/network.json`, or generates the network when `dir` is missing or empty.
fn load_or_init(
    dir: &Path,
    init_with: (&Layout, &InitOptions),
) -> Result<(NetworkJson, bool), QnetError> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(QnetError::io(dir, e)),
    };
    if empty {
        let (layout, options) = init_with;
        // a port in use refuses the network before anything is generated
        for (port, what) in layout.ports() {
            if std::net::TcpListener::bind((crate::layout::HOST, port)).is_err() {
                return Err(QnetError::PortInUse { port, what });
            }
        }
        return Ok((init(dir, layout, options)?, true));
    }
    if !dir.join(NETWORK_JSON).is_file() {
        return Err(QnetError::NotANetwork(dir.to_owned()));
    }
    Ok((NetworkJson::load(dir)?, false))
}

/// Starts what is down and waits until everything is healthy (see the module docs).
pub fn up(
    dir: &Path,
    init_with: (&Layout, &InitOptions),
    options: &UpOptions,
    report: &mut dyn FnMut(&str),
) -> Result<Started, QnetError> {
    install_signal_handlers();
    let (net, initialised) = load_or_init(dir, init_with)?;
    if initialised {
        report(&format!("generated a {} network in {}", net.consensus, dir.display()));
    }
    let bins =
        Binaries::find(options.bin_dir.as_deref(), net.nodes.iter().any(|n| n.tm.is_some()))?;
    let all = services(&net);
    let mut already_running = Vec::new();
    let mut to_start: Vec<Service<'_>> = Vec::new();
    for s in &all {
        match s.running_pid(dir) {
            Some(_) => already_running.push(s.name()),
            None => to_start.push(*s),
        }
    }
    check_free(&to_start)?;
    let probe = Probe::new().map_err(QnetError::Unhealthy)?;
    let deadline = Instant::now() + options.timeout;
    let mut procs: Vec<Proc> = Vec::new();
    let result = start_and_wait(dir, &net, &bins, &to_start, &probe, deadline, &mut procs, report);
    match result {
        Ok(status) => {
            let net_clone = net.clone();
            Ok(Started {
                dir: dir.to_owned(),
                net: net_clone,
                initialised,
                already_running,
                status,
                procs,
            })
        }
        Err(e) => {
            if !procs.is_empty() {
                report(&format!("stopping the {} processes this run started", procs.len()));
                stop_in_order(&mut procs, report);
            }
            Err(e)
        }
    }
}

/// Stops nodes first, then TMs.
fn stop_in_order(procs: &mut Vec<Proc>, report: &mut dyn FnMut(&str)) {
    let (mut tms, mut nodes): (Vec<Proc>, Vec<Proc>) =
        procs.drain(..).partition(|p| p.binary == "qtm");
    stop_all(&mut nodes, report);
    stop_all(&mut tms, report);
}

#[allow(clippy::too_many_arguments)]
fn start_and_wait(
    dir: &Path,
    net: &NetworkJson,
    bins: &Binaries,
    to_start: &[Service<'_>],
    probe: &Probe,
    deadline: Instant,
    procs: &mut Vec<Proc>,
    report: &mut dyn FnMut(&str),
) -> Result<NetworkStatus, QnetError> {
    // TMs first: a qnode with --ptm.url checks its TM at start
    for kind in [ServiceKind::Qtm, ServiceKind::Qnode] {
        for s in to_start.iter().filter(|s| s.kind == kind) {
            let binary = match kind {
                ServiceKind::Qnode => &bins.qnode,
                ServiceKind::Qtm => bins.qtm.as_ref().unwrap_or(&bins.qnode),
            };
            procs.push(Proc::spawn(dir, s, binary)?);
            report(&format!("started {} (log: {})", s.name(), dir.join(s.log_file()).display()));
        }
        if kind == ServiceKind::Qtm {
            for s in to_start.iter().filter(|s| s.kind == ServiceKind::Qtm) {
                let Some(tm) = &s.node.tm else { continue };
                wait_until(
                    dir,
                    net,
                    procs,
                    deadline,
                    || probe.tm_up(&tm.third_party).is_ok(),
                    &s.name(),
                )?;
            }
        }
    }
    // every node healthy; QBFT: every node's head advanced past its first answer
    let qbft = net.consensus == Consensus::Qbft;
    let mut first_heads: HashMap<String, u64> = HashMap::new();
    let mut last = NetworkStatus::collect(dir, net, probe);
    loop {
        check_aborts(dir, net, procs)?;
        let mut pending = last.problems();
        for n in &last.nodes {
            if let (true, Some(head)) = (qbft, n.head) {
                let first = *first_heads.entry(n.name.clone()).or_insert(head);
                if head <= first {
                    pending.push(format!("{}: waiting for a new block (head {head})", n.name));
                }
            }
        }
        if pending.is_empty() {
            return Ok(last);
        }
        if Instant::now() >= deadline {
            return Err(unhealthy(
                dir,
                net,
                &pending,
                "not healthy before the timeout (--timeout)",
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
        last = NetworkStatus::collect(dir, net, probe);
    }
}

/// Polls `ok` until it holds; fails on the deadline, a signal, or a process exit.
fn wait_until(
    dir: &Path,
    net: &NetworkJson,
    procs: &mut [Proc],
    deadline: Instant,
    mut ok: impl FnMut() -> bool,
    what: &str,
) -> Result<(), QnetError> {
    while !ok() {
        check_aborts(dir, net, procs)?;
        if Instant::now() >= deadline {
            let problem = format!("{what}: not answering /upcheck");
            return Err(unhealthy(
                dir,
                net,
                &[problem],
                "not healthy before the timeout (--timeout)",
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// A signal, or a process of this run that exited, ends the wait.
fn check_aborts(dir: &Path, net: &NetworkJson, procs: &mut [Proc]) -> Result<(), QnetError> {
    if stop_requested() {
        return Err(QnetError::Interrupted);
    }
    for p in procs.iter_mut() {
        if let Some(status) = p.exited() {
            let problem = format!("{}: exited ({status})", p.name);
            return Err(unhealthy(dir, net, &[problem], "a process exited while starting"));
        }
    }
    Ok(())
}

/// The report for a failed start: the problems, and the end of each named service's log.
fn unhealthy(dir: &Path, net: &NetworkJson, problems: &[String], why: &str) -> QnetError {
    // (the caller names the directory)
    let mut text = format!("{why}:");
    let mut named: Vec<String> = Vec::new();
    for p in problems {
        text.push_str(&format!("\n  {p}"));
        if let Some((name, _)) = p.split_once(':')
            && !named.iter().any(|n| n == name)
        {
            named.push(name.to_owned());
        }
    }
    for s in
        services(net).iter().filter(|s| named.contains(&s.name()) || named.contains(&s.node.name))
    {
        let tail = s.log_tail(dir, 8);
        if !tail.is_empty() {
            text.push_str(&format!(
                "\n--- {} (last lines) ---\n{tail}",
                dir.join(s.log_file()).display()
            ));
        }
    }
    QnetError::Unhealthy(text)
}

impl Started {
    /// `--detach`: leaves every process running (`qnet down` stops them).
    pub fn detach(self) {
        self.procs.into_iter().for_each(Proc::release);
    }

    /// Foreground: waits for SIGINT/SIGTERM (reporting processes that exit meanwhile), then
    /// stops every process of the network, nodes first.
    pub fn run_until_signal(mut self, report: &mut dyn FnMut(&str)) {
        let mut reported: Vec<String> = Vec::new();
        while !stop_requested() {
            for p in &mut self.procs {
                if let Some(status) = p.exited()
                    && !reported.contains(&p.name)
                {
                    report(&format!("{} exited ({status}); see logs/{}.log", p.name, p.name));
                    reported.push(p.name.clone());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        report("stopping the network");
        // the processes of earlier runs too: Ctrl-C takes the whole network down, with the
        // nodes `qnet add-node` added meanwhile (network.json is read again)
        let net = NetworkJson::load(&self.dir).unwrap_or_else(|_| self.net.clone());
        for s in services(&net) {
            if !self.procs.iter().any(|p| p.name == s.name())
                && let Some(pid) = s.running_pid(&self.dir)
            {
                self.procs.push(Proc::adopt(&self.dir, &s, pid));
            }
        }
        stop_in_order(&mut self.procs, report);
        report("stopped");
    }
}
