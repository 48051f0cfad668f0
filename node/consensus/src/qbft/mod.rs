//! The QBFT engine driver: runs the sans-IO `qrs_qbft::core::Core` against the chain and the
//! network (work in progress).

/// QBFT engine options that do not come from the genesis file (CLI flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QbftOptions {}
