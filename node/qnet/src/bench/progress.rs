//! The live progress line on stderr: rewritten in place (`\r`) on a terminal, one line per
//! second otherwise (logs, CI).

use std::{
    io::{IsTerminal as _, Write as _},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use super::{state::RunState, stats};

/// The progress printer.
#[derive(Debug)]
pub struct Progress {
    done: Arc<AtomicBool>,
    handle: JoinHandle<()>,
    tty: bool,
}

/// One line of progress.
pub fn line(state: &RunState, total: usize) -> String {
    let secs = state.started.elapsed().as_secs_f64();
    let sent = state.sent.load(Ordering::Relaxed);
    let rejected = state.rejected.load(Ordering::Relaxed);
    let lat = state.latencies();
    let included = lat.len();
    let ms: Vec<f64> = lat.iter().map(|(_, d)| d.as_secs_f64() * 1e3).collect();
    let p50 = stats::Latency::of(ms).p50;
    format!(
        "bench {secs:5.1}s  sent {sent}/{total}  included {included}  rejected {rejected}  \
         {:.0} tx/s  p50 {:.2}s",
        included as f64 / secs.max(1e-3),
        p50 / 1000.0
    )
}

impl Progress {
    /// Starts printing.
    pub fn start(state: &Arc<RunState>, total: usize) -> Self {
        let tty = std::io::stderr().is_terminal();
        let done = Arc::new(AtomicBool::new(false));
        let (st, flag) = (state.clone(), done.clone());
        let tick = if tty { Duration::from_millis(250) } else { Duration::from_secs(1) };
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                let text = line(&st, total);
                let mut err = std::io::stderr().lock();
                let _ = if tty { write!(err, "\r{text}\x1b[K") } else { writeln!(err, "{text}") };
                let _ = err.flush();
            }
        });
        Self { done, handle, tty }
    }

    /// Stops printing (a final newline on a terminal).
    pub fn finish(self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        if self.tty {
            eprintln!();
        }
    }
}
