//! CPU time of processes and of the whole machine, from `/proc`, for the network benches' cost
//! split (which process spent how much CPU per transaction).

use std::time::Duration;

use eyre::{WrapErr, eyre};

/// Clock ticks per second of `/proc`'s CPU times (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// User plus system CPU time `pid` has used so far (`self` for this process).
pub fn process_cpu(pid: &str) -> eyre::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).wrap_err_with(|| format!("reading {path}"))?;
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| eyre!("bad {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> eyre::Result<f64> {
        Ok(fields.get(i).ok_or_else(|| eyre!("short {path}"))?.parse::<f64>()?)
    };
    Ok(Duration::from_secs_f64((tick(11)? + tick(12)?) / ticks_per_second()))
}

/// Busy and total CPU time of the whole machine so far (all cores, from `/proc/stat`).
pub fn machine_cpu() -> eyre::Result<(Duration, Duration)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().ok_or_else(|| eyre!("empty /proc/stat"))?;
    let values: Vec<f64> =
        line.split_whitespace().skip(1).map(str::parse).collect::<Result<_, _>>()?;
    let total: f64 = values.iter().take(8).sum();
    // idle and iowait
    let idle = values.get(3).copied().unwrap_or(0.0) + values.get(4).copied().unwrap_or(0.0);
    let secs = |t: f64| Duration::from_secs_f64(t / ticks_per_second());
    Ok((secs(total - idle), secs(total)))
}

/// A snapshot of named groups of processes plus the machine, to diff after a run.
#[derive(Debug, Clone)]
pub struct CpuSnapshot {
    groups: Vec<(String, Duration)>,
    machine: (Duration, Duration),
}

impl CpuSnapshot {
    /// CPU used so far by each group (a name and its pids) and by the machine.
    pub fn take(groups: &[(&str, Vec<String>)]) -> eyre::Result<Self> {
        let groups = groups
            .iter()
            .map(|(name, pids)| {
                let sum = pids.iter().map(|p| process_cpu(p)).sum::<eyre::Result<Duration>>()?;
                Ok(((*name).to_owned(), sum))
            })
            .collect::<eyre::Result<_>>()?;
        Ok(Self { groups, machine: machine_cpu()? })
    }

    /// What each group spent per unit of work since `earlier` (e.g. per transaction), and how
    /// busy the machine was, as one line.
    pub fn report_since(&self, earlier: &Self, units: u64, unit: &str) -> String {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / units.max(1) as f64;
        let mut parts: Vec<String> = self
            .groups
            .iter()
            .zip(&earlier.groups)
            .map(|((name, now), (_, then))| {
                format!("{name} {:.0} µs", per(now.saturating_sub(*then)))
            })
            .collect();
        let busy = self.machine.0.saturating_sub(earlier.machine.0);
        let total = self.machine.1.saturating_sub(earlier.machine.1);
        parts.push(format!("whole machine {:.0} µs", per(busy)));
        let share = 100.0 * busy.as_secs_f64() / total.as_secs_f64().max(1e-9);
        format!("CPU per {unit}: {} (machine {share:.0} % busy)", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_accrues_cpu_and_the_machine_is_partly_busy() {
        let before = process_cpu("self").expect("own stat");
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let spent = process_cpu("self").expect("own stat").saturating_sub(before);
        assert!(spent >= Duration::from_millis(100), "spun 300 ms, counted {spent:?}");
        let (busy, total) = machine_cpu().expect("/proc/stat");
        assert!(busy > Duration::ZERO && busy <= total);
    }
}
