//! Raft flags (`--raft*`), as GoQuorum spells them.

use std::{path::PathBuf, time::Duration};

use clap::Args;
use qrs_consensus::raft::{RaftOptions, TimestampUnit};

/// Raft flags.
#[derive(Debug, Clone, Default, Args)]
pub struct RaftFlags {
    /// Use Raft consensus.
    #[arg(long)]
    pub raft: bool,
    /// This node's raft port as written in enodes (`?raftport=`). Raft messages use the p2p
    /// connections, so nothing listens on it: it only identifies the member.
    #[arg(long, default_value_t = 50400)]
    pub raftport: u16,
    /// Minimum time between two Raft blocks, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub raftblocktime: u64,
    /// Join an existing cluster under this raft id (after `raft_addPeer` / `raft_addLearner`).
    #[arg(long)]
    pub raftjoinexisting: Option<u16>,
    /// Allow host names in enode URLs.
    #[arg(long)]
    pub raftdnsenable: bool,
    /// Where the Raft log lives (default `<datadir>/raft`).
    #[arg(long)]
    pub raftlogdir: Option<PathBuf>,
    /// Unit of Raft block timestamps: `seconds` (default; what ethers.js and web3.js read) or
    /// `nanoseconds` (GoQuorum's, for a chain shared with GoQuorum Raft nodes).
    #[arg(long = "raft.timestampunit", default_value = "seconds")]
    pub timestamp_unit: String,
}

impl RaftFlags {
    /// The Raft engine options these flags describe.
    pub fn options(&self) -> eyre::Result<RaftOptions> {
        if self.raftblocktime == 0 {
            eyre::bail!("--raftblocktime must be at least 1 ms");
        }
        if self.raftjoinexisting == Some(0) {
            eyre::bail!("--raftjoinexisting: raft ids start at 1");
        }
        let timestamp_unit = match self.timestamp_unit.as_str() {
            "" | "seconds" | "s" => TimestampUnit::Seconds,
            "nanoseconds" | "ns" => TimestampUnit::Nanoseconds,
            other => eyre::bail!("--raft.timestampunit {other}: use seconds or nanoseconds"),
        };
        Ok(RaftOptions {
            raft_port: self.raftport,
            block_time: Duration::from_millis(self.raftblocktime),
            join_existing: self.raftjoinexisting,
            timestamp_unit,
            dns_enable: self.raftdnsenable,
            log_dir: self.raftlogdir.clone(),
            ..RaftOptions::default()
        })
    }
}
