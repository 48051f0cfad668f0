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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        raft: RaftFlags,
    }

    fn parse(args: &[&str]) -> eyre::Result<RaftOptions> {
        let cli = Cli::try_parse_from(std::iter::once("qnode").chain(args.iter().copied()))?;
        cli.raft.options()
    }

    #[test]
    fn goquorum_quickstart_flags() {
        let o = parse(&["--raft", "--raftblocktime", "300", "--raftport", "53000"]).unwrap();
        assert_eq!(o.block_time, Duration::from_millis(300));
        assert_eq!(o.raft_port, 53000);
        assert_eq!(o.join_existing, None);
        assert_eq!(o.timestamp_unit, TimestampUnit::Seconds);
        let o = parse(&["--raft", "--raftjoinexisting", "4", "--raftdnsenable"]).unwrap();
        assert_eq!(o.join_existing, Some(4));
        assert!(o.dns_enable);
        assert_eq!(o.block_time, Duration::from_millis(50), "GoQuorum's default");
        assert_eq!(o.raft_port, 50400, "GoQuorum's default");
        let o = parse(&["--raft", "--raft.timestampunit", "nanoseconds"]).unwrap();
        assert_eq!(o.timestamp_unit, TimestampUnit::Nanoseconds);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["--raft", "--raftblocktime", "0"]).is_err());
        assert!(parse(&["--raft", "--raftjoinexisting", "0"]).is_err());
        assert!(parse(&["--raft", "--raft.timestampunit", "minutes"]).is_err());
    }
}
