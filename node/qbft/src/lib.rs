//! QBFT consensus core for quorum-rs: GoQuorum-compatible header rules, validator voting, wire
//! messages and a sans-IO round state machine.
//!
//! The crate does no IO, has no clock and spawns nothing. A node drives it:
//! - [`header`] and [`extra`] implement GoQuorum's istanbul `extraData` formats and block hash;
//! - [`seal`] signs and recovers proposer/committed seals;
//! - [`validator`] and [`snapshot`] hold the validator set, proposer selection and voting;
//! - [`messages`] encodes and decodes QBFT PRE-PREPARE, PREPARE, COMMIT and ROUND-CHANGE;
//! - [`core`] is the state machine: feed it [`core::Input`]s, drain [`core::Ready`]s.
//!
//! Every decoder of untrusted bytes returns an error instead of panicking; the crate denies
//! `unwrap`, `expect`, `panic`, unchecked arithmetic and indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing
    )
)]

pub mod block;
pub mod core;
pub mod crypto;
pub mod extra;
pub mod header;
pub mod messages;

mod rlp_util;
pub mod seal;
pub mod snapshot;
pub mod validator;

pub use block::{Proposal, RawBlock};
pub use crypto::{SignatureError, ValidatorKey};
pub use extra::{IbftExtra, QbftExtra, ValidatorVote};
pub use header::{ISTANBUL_DIGEST, istanbul_block_hash};
pub use snapshot::{Candidates, Flavour, Snapshot};
pub use validator::{ProposerPolicy, SortOrder, ValidatorSet};
