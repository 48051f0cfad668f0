//! End-to-end tests: real `qnode` processes over real sockets (see the crate docs for how to run).

mod bad_input;
mod common;
mod crash;
mod genesis;
mod js_clients;
mod restart;
mod subscriptions;
mod tracing;
