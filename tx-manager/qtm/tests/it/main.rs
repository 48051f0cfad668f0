//! qtm acceptance tests: real `qtm` processes on loopback.

mod bad_input;
mod harness;
mod send_receive;
