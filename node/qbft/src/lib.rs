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
//! # Driving the core (the Ready loop)
//!
//! ```
//! use alloy_consensus::Header;
//! use alloy_primitives::{Address, B256};
//! use qrs_qbft::{
//!     ProposerPolicy, RawBlock, ValidatorKey, ValidatorSet,
//!     core::{ChainHead, Config, Core, Input},
//!     header::prepare_qbft_header,
//! };
//!
//! let key = ValidatorKey::from_bytes(&[7u8; 32]).unwrap();
//! let validators = ValidatorSet::qbft([key.address()], ProposerPolicy::RoundRobin);
//! let head = ChainHead { number: 0, hash: B256::ZERO, timestamp: 0, proposer: Address::ZERO, validators };
//! let now_ms = 10_000;
//! let mut core = Core::<RawBlock>::new(key.clone(), Config::default(), head.clone(), now_ms, None);
//! // Loop: feed inputs, then drain `ready()`. Persist `persist` BEFORE sending `broadcast`.
//! let ready = core.ready().unwrap();
//! let req = ready.build.unwrap(); // the node builds and executes a block...
//! let mut header = Header { number: req.height, parent_hash: head.hash, ..Default::default() };
//! prepare_qbft_header(&mut header, key.address(), head.timestamp, 5, now_ms / 1000, &[key.address()], None).unwrap();
//! core.step(Input::ProposalBuilt(RawBlock::empty(header)));
//! let ready = core.ready().unwrap();
//! assert!(ready.persist.is_some()); // write it durably first
//! let decided = ready.commit.unwrap(); // ...then write the block with `decided.seals`
//! assert_eq!(decided.seals.len(), 1);
//! // and tell the core about the new head with `Input::BlockCommitted`.
//! ```
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
pub mod verify;

pub use block::{Proposal, RawBlock};
pub use crypto::{SignatureError, ValidatorKey};
pub use extra::{IbftExtra, QbftExtra, ValidatorVote};
pub use header::{ISTANBUL_DIGEST, istanbul_block_hash};
pub use snapshot::{Candidates, Flavour, Snapshot};
pub use validator::{ProposerPolicy, SortOrder, ValidatorSet};
