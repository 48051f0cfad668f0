//! Integration tests for qrs-chainspec.

mod bft;
mod common;
mod ethereum;
mod forks;
mod parsing;
mod quickstart;
mod quorum_settings;
mod trie_prop;
mod validation;
