//! Compiled Solidity test contracts for quorum-rs, and typed call builders for them.
//!
//! The Solidity sources live in `contracts/sol/`. `scripts/compile-contracts.js` compiles them with the
//! solc-js version pinned in `tests/js/package.json` and writes `contracts/artifacts/<Name>.json`, which are
//! committed and embedded here with `include_str!`. The JS test suite (`tests/js/artifacts.test.mjs`)
//! recompiles and fails when the committed artifacts are stale.
//!
//! - [`Artifact`]: ABI JSON plus creation and runtime bytecode of one contract; get one with
//!   [`artifact`] or the named accessors such as [`simple_storage`].
//! - [`bindings`]: `alloy-sol-types` interfaces to build calldata and decode results, events and errors.
//! - [`opcodes`]: an EVM instruction walker that skips PUSH data, used to prove which opcodes a build uses.

pub mod artifact;
pub mod bindings;
pub mod opcodes;
mod registry;

pub use artifact::{Artifact, ArtifactError};
pub use registry::{
    ArtifactName, all, artifact, modern, qrs_token, reverter, simple_storage, simple_storage_london,
};
