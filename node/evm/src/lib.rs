//! Block and transaction execution on revm with Quorum's rules.
//!
//! - Free gas: unless `enableGasPriceBlock` (or a `gasPriceEnabled` transition) is reached, no
//!   fee is charged at all (revm's `disable_fee_charge`), so a value transfer moves exactly its
//!   value whatever fee fields the client filled in. There is never a block reward.
//! - The EVM rules follow the genesis fork schedule ([`spec_id`]); the contract size limit
//!   follows `maxCodeSize`/transitions.
//! - Execution is synchronous and reads state through [`StateDb`], a revm `DatabaseRef` over one
//!   MDBX snapshot (the latest state, or any historical root through the trie).
//! - [`BlockExecutor`] runs transactions one by one, keeps revert data, and collects the state
//!   changes of the block for the state-root update.
//! - Quorum private transactions (`v` 37/38) run on this node's private state when the block
//!   executor is given one ([`BlockExecutor::with_private`], [`PrivateInputs`]).

mod bloom;
mod call;
mod config;
mod db;
mod executor;
pub mod pe;
pub mod pmt;
mod private;
mod tx;

pub use call::{
    AccountOverride, CallError, StateOverrides, estimate_gas, inspect_call, replay_and_inspect,
    simulate,
};
pub use config::{BlockContext, EvmConfig, spec_id};
pub use db::{EvmDbError, StateDb, StateView};
pub use executor::{BlockExecutor, BlockOutcome, ExecError, TxOutcome};
pub use private::{
    PrivateInputs, PrivateOutcome, PrivatePayloads, PrivateSimulation, private_payload_hash,
    simulate_private,
};
pub use revm;
pub use tx::{TxEnvError, tx_env};
