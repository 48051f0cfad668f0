//! Integration tests for qrs-qbft.

mod common;
mod extra;
mod messages;
mod seals;
mod snapshot;
mod validators;
