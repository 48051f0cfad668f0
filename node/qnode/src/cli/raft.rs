//! Raft flags (`--raft*`). Owned by the Raft engine work: add the flag fields here (e.g.
//! `--raftport`, `--raftblocktime`, `--raftjoinexisting`) and map them in
//! [`RaftFlags::options`]; `cli/mod.rs` already flattens this group and selects Raft when
//! `--raft` is given.

use clap::Args;
use qrs_consensus::raft::RaftOptions;

/// Raft flags.
#[derive(Debug, Clone, Default, Args)]
pub struct RaftFlags {
    /// Use Raft consensus.
    #[arg(long)]
    pub raft: bool,
}

impl RaftFlags {
    /// The Raft engine options these flags describe.
    pub fn options(&self) -> eyre::Result<RaftOptions> {
        Ok(RaftOptions::default())
    }
}
