//! The QBFT engine driver: runs the sans-IO `qrs_qbft::core::Core` against the chain and the
//! network (work in progress).
