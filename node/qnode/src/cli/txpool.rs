//! Transaction pool flags (`--txpool.*`), as geth spells them, with geth's defaults.

use std::time::Duration;

use clap::Args;
use qrs_txpool::PoolConfig;

/// Transaction pool limits.
#[derive(Debug, Clone, Args)]
pub struct TxPoolFlags {
    /// Minimum price bump percentage to replace an already existing transaction (nonce).
    #[arg(long = "txpool.pricebump", default_value_t = 10)]
    pub price_bump: u64,
    /// Executable transaction slots guaranteed per account.
    #[arg(long = "txpool.accountslots", value_parser = at_least_one, default_value_t = 16)]
    pub account_slots: usize,
    /// Maximum number of executable transaction slots for all accounts.
    #[arg(long = "txpool.globalslots", value_parser = at_least_one, default_value_t = 4096)]
    pub global_slots: usize,
    /// Maximum number of non-executable transaction slots permitted per account.
    #[arg(long = "txpool.accountqueue", default_value_t = 64)]
    pub account_queue: usize,
    /// Maximum number of non-executable transaction slots for all accounts.
    #[arg(long = "txpool.globalqueue", value_parser = at_least_one, default_value_t = 1024)]
    pub global_queue: usize,
    /// Maximum time non-executable transactions are queued, in seconds.
    #[arg(long = "txpool.lifetime", default_value_t = 3 * 60 * 60)]
    pub lifetime_secs: u64,
}

/// A pool limit of zero would refuse every transaction: refused at start instead.
fn at_least_one(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

impl TxPoolFlags {
    /// The pool configuration; `allow_unprotected` comes from `--rpc.allow-unprotected-txs`.
    pub fn config(&self, allow_unprotected: bool) -> PoolConfig {
        PoolConfig {
            price_bump_percent: self.price_bump,
            account_slots: self.account_slots,
            account_queue: self.account_queue,
            global_slots: self.global_slots,
            global_queue: self.global_queue,
            allow_unprotected,
            queued_lifetime: Duration::from_secs(self.lifetime_secs),
            ..PoolConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        txpool: TxPoolFlags,
    }

    fn parse(args: &[&str]) -> Result<PoolConfig, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("qnode").chain(args.iter().copied()))?;
        Ok(cli.txpool.config(false))
    }

    #[test]
    fn defaults_are_geths() {
        let c = parse(&[]).unwrap();
        let d = PoolConfig::default();
        assert_eq!(
            (c.global_slots, c.account_slots, c.global_queue, c.account_queue),
            (4096, 16, 1024, 64)
        );
        assert_eq!(
            (c.global_slots, c.account_slots, c.global_queue, c.account_queue),
            (d.global_slots, d.account_slots, d.global_queue, d.account_queue)
        );
        assert_eq!(c.price_bump_percent, 10);
        assert_eq!(c.queued_lifetime, Duration::from_secs(3 * 60 * 60));
    }

    #[test]
    fn flags_set_the_limits() {
        let c = parse(&[
            "--txpool.globalslots",
            "32768",
            "--txpool.accountslots",
            "256",
            "--txpool.globalqueue",
            "8192",
            "--txpool.accountqueue",
            "128",
            "--txpool.pricebump",
            "25",
            "--txpool.lifetime",
            "60",
        ])
        .unwrap();
        assert_eq!(
            (c.global_slots, c.account_slots, c.global_queue, c.account_queue),
            (32768, 256, 8192, 128)
        );
        assert_eq!(c.price_bump_percent, 25);
        assert_eq!(c.queued_lifetime, Duration::from_secs(60));
    }

    #[test]
    fn zero_or_garbage_limits_are_refused() {
        for bad in [["--txpool.globalslots", "0"], ["--txpool.accountslots", "x"]] {
            let err = parse(&bad).unwrap_err().to_string();
            assert!(err.contains(bad[0]), "{err}");
        }
    }
}
