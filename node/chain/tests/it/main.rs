//! Chain integration tests: build, commit, restart and cross-node import.

mod support;

mod produce;
mod recover;
