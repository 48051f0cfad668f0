//! `qenclave`: serves Tessera's enclave REST API.
fn main() {}
