//! Chain integration tests: build, commit, restart and cross-node import.

mod support;

mod private;
mod produce;
mod recover;
