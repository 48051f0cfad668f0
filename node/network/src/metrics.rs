//! geth's `p2p/ingress` and `p2p/egress`: bytes of framed messages and request/response
//! bodies read from and written to peers (payload plus our frame headers; not the
//! noise/yamux overhead). One relaxed atomic add per frame.

use std::sync::{Arc, LazyLock};

use qrs_metrics::Counter;

pub(crate) static INGRESS: LazyLock<Arc<Counter>> =
    LazyLock::new(|| qrs_metrics::counter("p2p/ingress"));
pub(crate) static EGRESS: LazyLock<Arc<Counter>> =
    LazyLock::new(|| qrs_metrics::counter("p2p/egress"));

/// `n` bytes as a `u64`.
pub(crate) fn bytes(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
