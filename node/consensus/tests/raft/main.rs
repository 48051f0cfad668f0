//! Raft engine tests: in-process clusters over real libp2p connections on 127.0.0.1.
//! Measured numbers (latency, failover time, throughput) are printed (`--nocapture`).
#![allow(clippy::print_stdout)]

mod bad_input;
mod cluster;
mod failover;
mod harness;
mod membership;
mod restart;
