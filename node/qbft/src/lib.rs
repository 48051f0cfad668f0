//! QBFT consensus core.
