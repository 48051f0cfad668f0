//! Ports for test processes that cannot bind port 0 themselves (a node's peers must know its
//! p2p and Raft ports before it starts).
//!
//! "Bind port 0, read the port, release it" leaves a window in which another socket can take
//! the port: on a busy CI machine an outgoing connection or another test's port-0 bind did,
//! and a qnode then failed to listen. So ports come from ranges below Linux's ephemeral range
//! (32768-60999), which no port-0 bind or outgoing connection uses, and each range is reserved
//! across test processes (nextest runs every test in its own) by an exclusive lock on
//! `<tmp>/qrs-test-ports/<base>`, held until the process exits.

use std::{
    fs::File,
    net::TcpListener,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

/// Ports per reserved range.
pub const RANGE: u16 = 256;
const FIRST: u16 = 10_240;
const RANGES: u32 = ((32_768 - FIRST as u32) / RANGE as u32) - 1;

/// The ranges this process holds (their locks) and the next unused port of the last one.
struct Held {
    locks: Vec<File>,
    next: Option<(u16, u16)>,
}

static HELD: Mutex<Held> = Mutex::new(Held { locks: Vec::new(), next: None });

/// A base port whose next `count` (≤ [`RANGE`]) ports were free on all interfaces when checked
/// and are reserved for this process: no other test process is handed any of them.
pub fn reserve_range(count: u16) -> eyre::Result<u16> {
    eyre::ensure!(count <= RANGE, "at most {RANGE} ports per range");
    let mut held = HELD.lock().map_err(|_| eyre::eyre!("port reservations poisoned"))?;
    reserve_locked(&mut held, count)
}

/// One port, free on all interfaces when checked and reserved for this process.
pub fn free_port() -> eyre::Result<u16> {
    let mut held = HELD.lock().map_err(|_| eyre::eyre!("port reservations poisoned"))?;
    loop {
        let (next, end) = match held.next {
            Some((next, end)) if next < end => (next, end),
            _ => {
                let base = reserve_locked(&mut held, RANGE)?;
                (base, base + RANGE)
            }
        };
        held.next = Some((next + 1, end));
        if bindable(next) {
            return Ok(next);
        }
    }
}

fn reserve_locked(held: &mut Held, count: u16) -> eyre::Result<u16> {
    let dir = std::env::temp_dir().join("qrs-test-ports");
    std::fs::create_dir_all(&dir)?;
    let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.subsec_nanos()
        ^ std::process::id().wrapping_mul(2_654_435_761);
    for attempt in 0..(4 * RANGES) {
        let index = seed.wrapping_add(attempt.wrapping_mul(7)) % RANGES;
        let base = FIRST + (index as u16) * RANGE;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(base.to_string()))?;
        if lock.try_lock().is_err() {
            continue; // another test process (or this one) holds this range
        }
        if (base..base + count).all(bindable) {
            held.locks.push(lock);
            return Ok(base);
        }
    }
    eyre::bail!("no free range of {count} ports below the ephemeral range")
}

/// Free on every interface (qnode listens on 0.0.0.0; a 127.0.0.1 listener would clash).
fn bindable(port: u16) -> bool {
    TcpListener::bind(("0.0.0.0", port)).is_ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn ports_are_unique_below_the_ephemeral_range_and_span_several_ranges() -> eyre::Result<()> {
        let ports: Vec<u16> = (0..600).map(|_| free_port()).collect::<eyre::Result<_>>()?;
        let unique: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), ports.len(), "a port was handed out twice");
        assert!(ports.iter().all(|p| (FIRST..32_768).contains(p)));
        let base = reserve_range(64)?;
        assert!((base..base + 64).all(|p| !unique.contains(&p)), "range overlaps handed ports");
        Ok(())
    }
}
