//! Integration tests for qrs-qbft.

mod common;
mod extra;
mod seals;
mod snapshot;
mod validators;
