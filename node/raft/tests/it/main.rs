//! Integration tests of `qrs-raft`.

mod cluster;
mod harness;
mod minter;
mod storage;
