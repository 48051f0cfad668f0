//! GoQuorum's QBFT gauges `consensus/istanbul/qbft/core/{sequence,round}`, and a counter geth
//! lacks, `consensus/istanbul/qbft/core/roundchanges`: how many rounds were moved past at a
//! height (each is a timeout or a round-change quorum). Updated once per driver step.

use std::sync::{Arc, LazyLock};

use qrs_metrics::{Counter, Gauge};

struct Meters {
    sequence: Arc<Gauge>,
    round: Arc<Gauge>,
    round_changes: Arc<Counter>,
}

static METERS: LazyLock<Meters> = LazyLock::new(|| Meters {
    sequence: qrs_metrics::gauge("consensus/istanbul/qbft/core/sequence"),
    round: qrs_metrics::gauge("consensus/istanbul/qbft/core/round"),
    round_changes: qrs_metrics::counter("consensus/istanbul/qbft/core/roundchanges"),
});

/// Records the core's current height (sequence) and round.
pub(super) fn observe(sequence: u64, round: u64) {
    let m = &*METERS;
    let (seq, r) =
        (i64::try_from(sequence).unwrap_or(i64::MAX), i64::try_from(round).unwrap_or(i64::MAX));
    let (prev_seq, prev_round) = (m.sequence.get(), m.round.get());
    if seq == prev_seq && r > prev_round {
        m.round_changes.add(u64::try_from(r.saturating_sub(prev_round)).unwrap_or(0));
    }
    m.sequence.set(seq);
    m.round.set(r);
}
