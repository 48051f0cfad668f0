//! Inputs, outputs and configuration of the QBFT state machine.

use alloy_primitives::{Address, B256};

use crate::validator::ValidatorSet;

/// Timing and quorum settings (genesis `qbft` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `requesttimeoutseconds × 1000`: the round-0 timeout; round r waits `2^r` times as long.
    pub request_timeout_ms: u64,
    /// `maxRequestTimeoutSeconds`: cap on the round timeout (0 = no cap).
    pub max_request_timeout_secs: u64,
    /// `blockperiodseconds`: minimum seconds between blocks.
    pub block_period_secs: u64,
    /// `emptyblockperiodseconds`: minimum seconds before an empty block (0 = same as block period).
    pub empty_block_period_secs: u64,
    /// `ceil2Nby3Block`: from this height the quorum is `ceil(2N/3)`.
    pub ceil_2n_by_3_block: Option<u64>,
}

impl Default for Config {
    /// GoQuorum `DefaultConfig`: 10 s request timeout, 5 s block period, `ceil2Nby3Block` 0.
    fn default() -> Self {
        Self {
            request_timeout_ms: 10_000,
            max_request_timeout_secs: 0,
            block_period_secs: 5,
            empty_block_period_secs: 0,
            ceil_2n_by_3_block: Some(0),
        }
    }
}

impl Config {
    /// GoQuorum `newRoundChangeTimer`: `requestTimeout × 2^round`, capped at
    /// `maxRequestTimeoutSeconds` when set.
    pub fn round_timeout_ms(&self, round: u64) -> u64 {
        let factor = 1u64.checked_shl(u32::try_from(round).unwrap_or(u32::MAX)).unwrap_or(u64::MAX);
        let t = self.request_timeout_ms.saturating_mul(factor);
        if self.max_request_timeout_secs > 0 {
            t.min(self.max_request_timeout_secs.saturating_mul(1000))
        } else {
            t
        }
    }
}

/// The chain head the next height builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// Its number.
    pub number: u64,
    /// Its istanbul hash.
    pub hash: B256,
    /// Its timestamp (seconds).
    pub timestamp: u64,
    /// Its author (the zero address for genesis).
    pub proposer: Address,
    /// The validators for the next height (from the voting snapshot at this head).
    pub validators: ValidatorSet,
}

/// What drives the core.
#[derive(Debug, Clone)]
pub enum Input<B> {
    /// The current time, in milliseconds since the Unix epoch.
    Tick(u64),
    /// A consensus message from a peer: its p2p code and payload.
    Message {
        /// p2p message code (0x12..=0x15).
        code: u64,
        /// RLP payload.
        payload: Vec<u8>,
    },
    /// The block the core asked for with [`BuildRequest`].
    ProposalBuilt(B),
    /// A block was committed or imported: start the next height on this head.
    BlockCommitted(ChainHead),
}

/// Ask the node to build a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildRequest {
    /// Height to build.
    pub height: u64,
    /// Round it is for.
    pub round: u64,
    /// Earliest timestamp (seconds): `parent.time + blockPeriod`.
    pub not_before_secs: u64,
}

/// A block that reached a commit quorum.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided<B> {
    /// The block as proposed (without seals).
    pub block: B,
    /// The committed seals to write into the extra data.
    pub seals: Vec<[u8; 65]>,
    /// The commit round.
    pub round: u32,
}

/// What a validator has signed at the current height, persisted so that a restart never signs
/// two different blocks at the same height and round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SafetyState {
    /// The height these records are for.
    pub height: u64,
    /// `(round, kind, digest)` of each signed PRE-PREPARE (0), PREPARE (1) and COMMIT (2).
    pub signed: Vec<(u64, u8, B256)>,
    /// The last prepared round and block hash.
    pub prepared: Option<(u64, B256)>,
}

/// The outputs of one step, to be handled in order: persist, then send, then the rest.
#[derive(Debug, Clone)]
pub struct Ready<B> {
    /// Must be durable before any message in `broadcast` leaves the node.
    pub persist: Option<SafetyState>,
    /// `(code, payload)` to send to every other validator.
    pub broadcast: Vec<(u64, Vec<u8>)>,
    /// Build a block.
    pub build: Option<BuildRequest>,
    /// Write this block with its seals.
    pub commit: Option<Decided<B>>,
    /// Call [`Input::Tick`] no later than this time (ms).
    pub wake_at: Option<u64>,
}

impl<B> Default for Ready<B> {
    fn default() -> Self {
        Self { persist: None, broadcast: Vec::new(), build: None, commit: None, wake_at: None }
    }
}
