//! Integration tests for qrs-qbft.

mod common;
mod core_rules;
mod extra;
mod messages;
mod seals;
mod sim;
mod snapshot;
mod validators;
mod verify;
