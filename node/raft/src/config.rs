//! [`RaftConfig`]: GoQuorum's Raft parameters (`raft/handler.go startRaft`, `cmd/utils/flags.go`).
//!
//! One deliberate difference: GoQuorum's code sets `CheckQuorum: !enablePreVote` with
//! `enablePreVote = true`, i.e. CheckQuorum **off** (its docs say on). We turn it on, so a leader
//! cut off from the majority steps down after an election timeout instead of accepting
//! proposals that can never commit.

use std::time::Duration;

use crate::{error::RaftError, header::TimestampUnit};

/// Raft service parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftConfig {
    /// This node's raft id (static-nodes index + 1, or `--raftjoinexisting <id>`).
    pub raft_id: u16,
    /// `--raftjoinexisting`: start with an empty log and wait for the leader.
    pub join_existing: bool,
    /// Interval at which the driver must call [`crate::RaftNode::tick`] (GoQuorum: 100 ms).
    pub tick_interval: Duration,
    /// Ticks without a leader before campaigning (10).
    pub election_tick: usize,
    /// Ticks between leader heartbeats (1).
    pub heartbeat_tick: usize,
    /// Leader steps down without a live quorum (see module docs).
    pub check_quorum: bool,
    /// Max bytes of entries per append message (4096).
    pub max_size_per_msg: u64,
    /// Max in-flight append messages per follower (256).
    pub max_inflight_msgs: usize,
    /// Snapshot (and compact the log) every this many applied entries (250).
    pub snapshot_period: u64,
    /// `--raftblocktime`: minimum time between two minted blocks (50 ms).
    pub block_time: Duration,
    /// Unit of block timestamps (seconds by default; see [`TimestampUnit`]).
    pub timestamp_unit: TimestampUnit,
    /// `--raftdnsenable`: accept host names in enode URLs.
    pub dns_enable: bool,
}

impl RaftConfig {
    /// GoQuorum's defaults for node `raft_id`.
    pub fn new(raft_id: u16) -> Self {
        Self {
            raft_id,
            join_existing: false,
            tick_interval: Duration::from_millis(100),
            election_tick: 10,
            heartbeat_tick: 1,
            check_quorum: true,
            max_size_per_msg: 4096,
            max_inflight_msgs: 256,
            snapshot_period: 250,
            block_time: Duration::from_millis(50),
            timestamp_unit: TimestampUnit::Seconds,
            dns_enable: false,
        }
    }

    /// The raft-rs configuration.
    pub fn to_raft(&self, applied: u64) -> Result<raft::Config, RaftError> {
        if self.raft_id == 0 {
            return Err(RaftError::Config("raft id must not be 0".into()));
        }
        let cfg = raft::Config {
            id: u64::from(self.raft_id),
            election_tick: self.election_tick,
            heartbeat_tick: self.heartbeat_tick,
            check_quorum: self.check_quorum,
            max_size_per_msg: self.max_size_per_msg,
            max_inflight_msgs: self.max_inflight_msgs,
            applied,
            ..Default::default()
        };
        cfg.validate().map_err(|e| RaftError::Config(e.to_string()))?;
        Ok(cfg)
    }
}
