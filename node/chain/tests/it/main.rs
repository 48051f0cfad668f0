//! Chain integration tests: build, commit, restart and cross-node import.

mod support;

mod pmt;
mod privacy_enhancements;
mod private;
mod produce;
mod recover;
