//! Integration tests of `qrs-txpool` with real signed transactions.

mod common;
mod concurrency;
mod events;
mod intrinsic;
mod limits;
mod maintenance;
mod new_block;
mod ordering;
mod private;
mod props;
mod reentrancy;
mod replacement;
mod validation;
