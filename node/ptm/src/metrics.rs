//! Metrics of the node's calls to its TM (series geth lacks): per endpoint
//! (`send`, `storeraw`, `sendsignedtx`, `receive`, `receivebatch`) a request count, an error count and a
//! latency timer; plus `ptm/receive/notfound` (404: this node is not a party, or the payload
//! is gone) kept apart from `ptm/unreachable` (connect/reset/timeout: the TM is down).

use std::{
    sync::{Arc, LazyLock},
    time::Instant,
};

use qrs_metrics::{Counter, Timer};

use crate::PtmError;

/// A TM endpoint the node calls.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Call {
    Send = 0,
    StoreRaw = 1,
    SendSigned = 2,
    Receive = 3,
    ReceiveBatch = 4,
}

const ENDPOINTS: [&str; 5] = ["send", "storeraw", "sendsignedtx", "receive", "receivebatch"];

struct Meters {
    requests: [Arc<Counter>; 5],
    errors: [Arc<Counter>; 5],
    duration: [Arc<Timer>; 5],
    unreachable: Arc<Counter>,
    not_found: Arc<Counter>,
}

static METERS: LazyLock<Meters> = LazyLock::new(|| {
    let g = qrs_metrics::global();
    Meters {
        requests: ENDPOINTS.map(|e| g.counter_with("ptm/requests", &[("endpoint", e)])),
        errors: ENDPOINTS.map(|e| g.counter_with("ptm/errors", &[("endpoint", e)])),
        duration: ENDPOINTS.map(|e| g.timer_with("ptm/duration", &[("endpoint", e)])),
        unreachable: g.counter("ptm/unreachable"),
        not_found: g.counter("ptm/receive/notfound"),
    }
});

/// Records one call that started at `started`.
pub(crate) fn observe<T>(call: Call, started: Instant, result: &Result<T, PtmError>) {
    let m = &*METERS;
    let i = call as usize;
    m.requests[i].inc();
    m.duration[i].record_since(started);
    if let Err(e) = result {
        m.errors[i].inc();
        if matches!(e, PtmError::Unreachable { .. }) {
            m.unreachable.inc();
        }
    }
}

/// Records one `GET /transaction/{hash}` attempt (`Ok(None)` = 404, not found).
pub(crate) fn observe_receive<T>(started: Instant, result: &Result<Option<T>, PtmError>) {
    observe(Call::Receive, started, result);
    if matches!(result, Ok(None)) {
        METERS.not_found.inc();
    }
}
