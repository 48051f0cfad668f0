//! CPU and memory of the network's processes during a run, from `/proc/<pid>/stat` (user +
//! system clock ticks) and `/proc/<pid>/status` (`VmRSS`, `VmHWM`), for the pids `qnet up`
//! recorded in `D/run/<name>.pid`. A process whose pid is unknown (or that is not running) is
//! reported with nulls.

use std::{path::Path, time::Instant};

use serde::Serialize;

use crate::{network_json::NetworkJson, run::procs::services};

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    /// utime + stime, in clock ticks.
    pub ticks: u64,
    /// Resident set size, KiB.
    pub rss_kib: u64,
    /// Peak resident set size over the process's life, KiB.
    pub hwm_kib: u64,
}

/// Parses `/proc/<pid>/stat` (utime and stime are fields 14 and 15; the command name in
/// parentheses may contain spaces) and `/proc/<pid>/status`.
pub fn parse(stat: &str, status: &str) -> Option<ProcSample> {
    let rest = stat.rsplit_once(')')?.1;
    // rest starts at field 3 (state)
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line[key.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(ProcSample {
        ticks: utime + stime,
        rss_kib: kib("VmRSS:")?,
        hwm_kib: kib("VmHWM:").unwrap_or(0),
    })
}

/// Reads a live process.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse(&stat, &status)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// One process's usage over the run.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// `validator1`, `member1-tm`, ...
    pub name: String,
    /// `qnode` or `qtm`.
    pub process: &'static str,
    /// Its pid (`null`: not recorded or not running).
    pub pid: Option<u32>,
    /// Average CPU over the run, percent of one core.
    pub cpu_percent: Option<f64>,
    /// Resident memory at the end, MiB.
    pub rss_mib: Option<f64>,
    /// Peak resident memory over the process's life (`VmHWM`), MiB.
    pub peak_rss_mib: Option<f64>,
}

/// The processes watched, with their first reading.
#[derive(Debug)]
pub struct Watch {
    started: Instant,
    procs: Vec<(String, &'static str, Option<u32>, Option<ProcSample>)>,
}

impl Watch {
    /// Reads every qnode and qtm of the network now.
    pub fn start(dir: &Path, net: &NetworkJson) -> Self {
        let procs = services(net)
            .iter()
            .map(|s| {
                let pid = s.running_pid(dir);
                (s.name(), s.kind.binary(), pid, pid.and_then(sample))
            })
            .collect();
        Self { started: Instant::now(), procs }
    }

    /// Reads them again: usage since [`Self::start`].
    pub fn finish(self) -> Vec<Usage> {
        let wall = self.started.elapsed().as_secs_f64().max(1e-3);
        let hz = clock_ticks();
        let mib = |kib: u64| (kib as f64 / 1024.0 * 10.0).round() / 10.0;
        self.procs
            .into_iter()
            .map(|(name, process, pid, first)| {
                let last = pid.and_then(sample);
                let cpu = first.zip(last).map(|(a, b)| {
                    let pct = b.ticks.saturating_sub(a.ticks) as f64 / hz / wall * 100.0;
                    (pct * 10.0).round() / 10.0
                });
                Usage {
                    name,
                    process,
                    pid: pid.filter(|_| last.is_some()),
                    cpu_percent: cpu,
                    rss_mib: last.map(|s| mib(s.rss_kib)),
                    peak_rss_mib: last.map(|s| mib(s.hwm_kib)),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{ProcSample, parse, sample};

    #[test]
    fn parses_stat_with_spaces_in_the_name_and_status() {
        let stat = "1234 (q node) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        let status = "Name:\tqnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assert_eq!(
            parse(stat, status),
            Some(ProcSample { ticks: 300, rss_kib: 102_400, hwm_kib: 204_800 })
        );
        assert_eq!(parse("garbage", status), None);
    }

    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).expect("/proc/self");
        assert!(s.rss_kib > 0 && s.hwm_kib >= s.rss_kib, "{s:?}");
    }
}
