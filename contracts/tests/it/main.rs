//! Integration tests for `qrs-contracts`: the committed artifacts decode, have the opcode profile their
//! EVM target implies, and agree with the `sol!` bindings.

mod artifacts;
mod bindings;
mod execution;
mod opcodes;
