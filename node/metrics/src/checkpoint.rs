//! GoQuorum's checkpoint log lines (`--emitcheckpoints`, quorum `log/emit_checkpoint.go`):
//! an INFO event with the message `QUORUM-CHECKPOINT` and the fields `name=<CHECKPOINT>` then
//! the checkpoint's own key/values, in GoQuorum's order and value formats:
//!
//! | checkpoint | where (GoQuorum) | fields |
//! |---|---|---|
//! | `TX-CREATED` | a transaction submitted over RPC (`SubmitTransaction`) | `tx=0x<hash>` `to=<EIP-55 address>` (the new contract's address for a creation) |
//! | `TX-COMPLETED` | a transaction executed into a block being built (`worker.commitTransaction`) | `tx=0x<hash>` `time=<Go duration>` |
//! | `TX-ACCEPTED` | each transaction of a new block, before `BLOCK-CREATED` | `tx=0x<hash>` |
//! | `BLOCK-CREATED` | a new chain head | `block=<hash hex without 0x>` |
//! | `BECAME-MINTER` / `BECAME-VERIFIER` / `BECAME-LEARNER` | a Raft role change | none |
//!
//! Emitting is off until [`enable`]; a disabled call costs one relaxed atomic load.

use std::{
    fmt::Display,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

/// `TX-CREATED`.
pub const TX_CREATED: &str = "TX-CREATED";
/// `TX-ACCEPTED`.
pub const TX_ACCEPTED: &str = "TX-ACCEPTED";
/// `TX-COMPLETED`.
pub const TX_COMPLETED: &str = "TX-COMPLETED";
/// `BLOCK-CREATED`.
pub const BLOCK_CREATED: &str = "BLOCK-CREATED";
/// `BECAME-MINTER`.
pub const BECAME_MINTER: &str = "BECAME-MINTER";
/// `BECAME-VERIFIER`.
pub const BECAME_VERIFIER: &str = "BECAME-VERIFIER";
/// `BECAME-LEARNER`.
pub const BECAME_LEARNER: &str = "BECAME-LEARNER";
/// The log message of every checkpoint.
pub const MESSAGE: &str = "QUORUM-CHECKPOINT";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns checkpoint lines on or off (`--emitcheckpoints`).
pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether checkpoint lines are printed.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// `TX-CREATED tx=<hash> to=<address>`.
pub fn tx_created(tx: impl Display, to: impl Display) {
    if enabled() {
        tracing::info!(target: "checkpoint", name = %TX_CREATED, tx = %tx, to = %to, "QUORUM-CHECKPOINT");
    }
}

/// `TX-COMPLETED tx=<hash> time=<duration>`.
pub fn tx_completed(tx: impl Display, elapsed: Duration) {
    if enabled() {
        let time = go_duration(elapsed);
        tracing::info!(target: "checkpoint", name = %TX_COMPLETED, tx = %tx, time = %time, "QUORUM-CHECKPOINT");
    }
}

/// `TX-ACCEPTED tx=<hash>`.
pub fn tx_accepted(tx: impl Display) {
    if enabled() {
        tracing::info!(target: "checkpoint", name = %TX_ACCEPTED, tx = %tx, "QUORUM-CHECKPOINT");
    }
}

/// `BLOCK-CREATED block=<hash without 0x>`.
pub fn block_created(block: impl Display) {
    if enabled() {
        tracing::info!(target: "checkpoint", name = %BLOCK_CREATED, block = %block, "QUORUM-CHECKPOINT");
    }
}

/// A Raft role change: `BECAME-MINTER`, `BECAME-VERIFIER` or `BECAME-LEARNER` for the roles
/// `minter`, `verifier`, `learner` (nothing for others).
pub fn became(role: &str) {
    let name = match role {
        "minter" => BECAME_MINTER,
        "verifier" => BECAME_VERIFIER,
        "learner" => BECAME_LEARNER,
        _ => return,
    };
    if enabled() {
        tracing::info!(target: "checkpoint", name = %name, "QUORUM-CHECKPOINT");
    }
}

/// `v / 10^prec` with the trailing zeros of the fraction removed (Go's `fmtFrac`).
fn frac(v: u128, prec: u32) -> String {
    let unit = 10u128.pow(prec);
    let (int, rest) = (v / unit, v % unit);
    if rest == 0 {
        return int.to_string();
    }
    let digits = format!("{rest:0width$}", width = prec as usize);
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// A duration as Go's `time.Duration.String()` prints it (`850ns`, `1.5µs`, `12.003ms`,
/// `2.5s`, `1m30s`, `1h0m0s`): GoQuorum's `time=` values.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", frac(ns, 3));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns, 6));
    }
    let secs = ns / 1_000_000_000;
    let sub = ns % 1_000_000_000;
    let s = frac(u128::from((secs % 60) as u64) * 1_000_000_000 + sub, 9);
    let (h, m) = (secs / 3600, (secs / 60) % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_does() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(850), "850ns"),
            (Duration::from_nanos(1_500), "1.5µs"),
            (Duration::from_nanos(12_003_000), "12.003ms"),
            (Duration::from_nanos(1_234_567), "1.234567ms"),
            (Duration::from_millis(2_500), "2.5s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_nanos(61_000_000_001), "1m1.000000001s"),
        ];
        for (d, want) in cases {
            assert_eq!(go_duration(d), want, "{d:?}");
        }
    }
}
