//! Integration tests of `qrs-network`: real swarms on loopback, GoQuorum quickstart fixtures.

mod abuse;
mod common;
mod fixtures;
mod mesh;
mod permissioned;
mod requests;
