//! Block timers under geth's names: `chain/execution` (running a block's transactions),
//! `chain/validation` (state root and private state: geth's `ValidateState`), `chain/write`
//! (the durable commit), plus `chain/private/execution` (each private transaction) that geth
//! lacks. Recorded once per block (per private transaction), from statics: no lookups.

use std::sync::{Arc, LazyLock};

use qrs_metrics::Timer;

pub(crate) struct ChainMeters {
    pub execution: Arc<Timer>,
    pub validation: Arc<Timer>,
    pub write: Arc<Timer>,
    pub private_execution: Arc<Timer>,
}

pub(crate) static METERS: LazyLock<ChainMeters> = LazyLock::new(|| ChainMeters {
    execution: qrs_metrics::timer("chain/execution"),
    validation: qrs_metrics::timer("chain/validation"),
    write: qrs_metrics::timer("chain/write"),
    private_execution: qrs_metrics::timer("chain/private/execution"),
});
