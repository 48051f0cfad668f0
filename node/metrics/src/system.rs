//! Process metrics from `/proc` under geth's names: `system/cpu/{procload,sysload,syswait}`,
//! `system/memory/{used,held}`, `system/disk/{readbytes,writebytes}`, plus [`dir_size`] for
//! `eth/db/chaindata/disk/size`. Read at scrape time; elsewhere than Linux they stay 0.

use std::{path::Path, time::Instant};

use parking_lot::Mutex;

use crate::Registry;

/// Kernel clock ticks per second (`USER_HZ`): 100 on every Linux ABI we run on.
const TICKS_PER_SEC: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
struct CpuSample {
    at: Instant,
    /// This process: utime + stime ticks.
    proc_ticks: u64,
    /// All CPUs: busy ticks and iowait ticks.
    busy_ticks: u64,
    wait_ticks: u64,
}

/// Samples `/proc` and sets the `system/*` gauges; CPU loads are percentages over the time
/// since the previous [`ProcessSampler::update`] (geth's scale: 100 = one core busy).
#[derive(Debug, Default)]
pub struct ProcessSampler {
    last: Mutex<Option<CpuSample>>,
}

fn proc_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the parenthesised command name: state is field 3, utime 14, stime 15
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn system_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal
    let busy = v.first()? + v.get(1)? + v.get(2)? + v.get(5)? + v.get(6)? + v.get(7).unwrap_or(&0);
    Some((busy, *v.get(4)?))
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_kb(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024)
}

fn io_field(io: &str, key: &str) -> Option<u64> {
    io.lines().find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
}

impl ProcessSampler {
    /// A sampler with no previous reading (the first update reports 0% CPU).
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `/proc` and sets the gauges in `registry`.
    pub fn update(&self, registry: &Registry) {
        if let (Some(proc_ticks), Some((busy_ticks, wait_ticks))) = (proc_ticks(), system_ticks()) {
            let now = CpuSample { at: Instant::now(), proc_ticks, busy_ticks, wait_ticks };
            let prev = self.last.lock().replace(now);
            if let Some(prev) = prev {
                let secs = now.at.duration_since(prev.at).as_secs_f64();
                if secs > 0.0 {
                    let pct = |a: u64, b: u64| {
                        (a.saturating_sub(b) as f64 / TICKS_PER_SEC / secs * 100.0).round() as i64
                    };
                    registry.gauge("system/cpu/procload").set(pct(now.proc_ticks, prev.proc_ticks));
                    registry.gauge("system/cpu/sysload").set(pct(now.busy_ticks, prev.busy_ticks));
                    registry.gauge("system/cpu/syswait").set(pct(now.wait_ticks, prev.wait_ticks));
                }
            } else {
                for name in ["system/cpu/procload", "system/cpu/sysload", "system/cpu/syswait"] {
                    registry.gauge(name);
                }
            }
        }
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            if let Some(rss) = status_kb(&status, "VmRSS:") {
                registry.gauge("system/memory/held").set_u64(rss);
            }
            if let Some(anon) = status_kb(&status, "RssAnon:") {
                registry.gauge("system/memory/used").set_u64(anon);
            }
            if let Some(threads) = status
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                registry.gauge("system/cpu/threads").set_u64(threads);
            }
        }
        if let Ok(io) = std::fs::read_to_string("/proc/self/io") {
            if let Some(r) = io_field(&io, "read_bytes:") {
                registry.gauge("system/disk/readbytes").set_u64(r);
            }
            if let Some(w) = io_field(&io, "write_bytes:") {
                registry.gauge("system/disk/writebytes").set_u64(w);
            }
        }
    }
}

/// Bytes on disk of the files under `path` (0 if it cannot be read): allocated blocks, not
/// apparent lengths, since MDBX grows its file ahead of use (a sparse file).
pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => file_bytes(&m),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(unix)]
fn file_bytes(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::blocks(m).saturating_mul(512)
}

#[cfg(not(unix))]
fn file_bytes(m: &std::fs::Metadata) -> u64 {
    m.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process() {
        let r = Registry::new();
        let s = ProcessSampler::new();
        s.update(&r);
        s.update(&r);
        assert!(r.gauge("system/memory/held").get() > 0);
        assert!(r.gauge("system/memory/used").get() > 0);
        assert!(r.gauge("system/cpu/procload").get() >= 0);
    }

    #[test]
    fn dir_size_sums_files() {
        let dir = std::env::temp_dir().join(format!("qrs-metrics-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a"), [1u8; 10]).unwrap();
        std::fs::write(dir.join("sub/b"), [1u8; 5000]).unwrap();
        // whole blocks: at least the data, at most a few 4 KiB blocks more
        let size = dir_size(&dir);
        assert!((5010..=5010 + 3 * 4096).contains(&size), "{size}");
        // a sparse file counts what it holds, not its length
        let f = std::fs::File::create(dir.join("sparse")).unwrap();
        f.set_len(1 << 30).unwrap();
        assert!(dir_size(&dir) < 1 << 20, "{}", dir_size(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
