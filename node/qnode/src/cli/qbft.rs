//! QBFT / IBFT flags, as GoQuorum spells them (`--istanbul.*`, `--allowedfutureblocktime`).
//! `cli/mod.rs` flattens this group and selects QBFT for `--mine` on an istanbul genesis.

use clap::Args;
use qrs_consensus::qbft::QbftOptions;

/// QBFT flags.
#[derive(Debug, Clone, Default, Args)]
pub struct QbftFlags {
    /// Minimum seconds between blocks when the genesis sets no `blockperiodseconds` (deprecated
    /// in GoQuorum, still passed by the quickstart; a genesis or transition value wins).
    #[arg(long = "istanbul.blockperiod")]
    pub block_period: Option<u64>,
    /// Round-0 timeout in milliseconds when the genesis sets no `requesttimeoutseconds`.
    #[arg(long = "istanbul.requesttimeout")]
    pub request_timeout_ms: Option<u64>,
    /// Seconds a block's timestamp may be ahead of the local clock.
    #[arg(long = "allowedfutureblocktime", default_value_t = 0)]
    pub allowed_future_block_time: u64,
}

impl QbftFlags {
    /// The QBFT engine options these flags describe.
    pub fn options(&self) -> eyre::Result<QbftOptions> {
        if self.block_period == Some(0) {
            eyre::bail!("--istanbul.blockperiod must be at least 1 second");
        }
        if self.request_timeout_ms == Some(0) {
            eyre::bail!("--istanbul.requesttimeout must be at least 1 ms");
        }
        Ok(QbftOptions {
            block_period_secs: self.block_period,
            request_timeout_ms: self.request_timeout_ms,
            allowed_future_block_time_secs: self.allowed_future_block_time,
        })
    }
}
