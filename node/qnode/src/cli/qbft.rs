//! QBFT / IBFT flags (`--istanbul.*`). Owned by the QBFT engine work: add the flag fields
//! here and map them in [`QbftFlags::options`]; `cli/mod.rs` already flattens this group and
//! selects QBFT for `--mine` on an istanbul genesis.

use clap::Args;
use qrs_consensus::qbft::QbftOptions;

/// QBFT flags.
#[derive(Debug, Clone, Default, Args)]
pub struct QbftFlags {}

impl QbftFlags {
    /// The QBFT engine options these flags describe.
    pub fn options(&self) -> eyre::Result<QbftOptions> {
        Ok(QbftOptions::default())
    }
}
