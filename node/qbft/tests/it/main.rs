//! Integration tests for qrs-qbft.

mod common;
mod extra;
mod messages;
mod seals;
mod sim;
mod snapshot;
mod validators;
