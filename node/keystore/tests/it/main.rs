//! Integration tests for qrs-keystore.

mod fixtures;
mod keyfile;
mod manager;
mod signing;
