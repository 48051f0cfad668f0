//! qtm acceptance tests: real `qtm` processes on loopback.

mod bad_input;
mod harness;
mod remote_enclave;
mod resend;
mod send_receive;
mod tls;
