//! qtm acceptance tests: real `qtm` processes on loopback.

mod bad_input;
mod cli;
mod discovery;
mod harness;
mod metrics;
mod privacy;
mod push_batching;
mod receive_batch;
mod remote_enclave;
mod resend;
mod schemathesis;
mod send_receive;
mod tls;
