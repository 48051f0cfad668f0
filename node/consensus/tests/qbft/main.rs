//! QBFT engine tests over real networking: in-process validators, each with its own chain and a
//! qrs-network service on 127.0.0.1:0.

mod byzantine;
mod cpu;
mod faults;
mod harness;
mod lone;
mod network;
mod safety;
mod voting;

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
