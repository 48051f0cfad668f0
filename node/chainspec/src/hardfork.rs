//! Ethereum hard forks and the effective activation schedule of a chain.
//!
//! # Activation rule
//!
//! A fork is active only when it **and every earlier fork** are active: the effective
//! activation block of a block-based fork is the maximum of its own block and the effective
//! blocks of all forks before it. A fork left out of the config (`None`) therefore disables
//! every later block-based fork. Consequences:
//!
//! - The quickstart's `berlinBlock: 10000000` with `londonBlock: 0` activates London only at
//!   block 10,000,000 — so those chains have no London (no base fee) for their first ten million
//!   blocks, which reproduces GoQuorum (it ignores `londonBlock` altogether).
//! - `petersburgBlock` absent means "same as `constantinopleBlock`" (geth's rule).
//! - The difficulty-bomb-only forks (Muir Glacier, Arrow Glacier, Gray Glacier) are optional:
//!   when absent they take the activation of the fork before them and never block later forks.
//! - Spurious Dragon is `eip158Block`; EIP-155 signatures are tracked separately
//!   ([`ForkSchedule::is_eip155`]).
//! - Paris is `mergeNetsplitBlock`, or block 0 when `terminalTotalDifficulty` is 0.
//!
//! Time-based forks (Shanghai, Cancun, Prague, Osaka) are active when London is effectively
//! active at the block **and** their timestamp and every earlier time-based fork's timestamp has
//! been reached. They do not require Paris; because [`Hardfork`] is a total order, a chain with
//! Shanghai active reports Shanghai (and [`crate::ChainSpec::is_active`] answers `true` for
//! Paris), i.e. it runs the post-merge EVM rules.

use crate::config::ChainConfig;

/// Ethereum hard forks in activation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hardfork {
    /// Genesis rules.
    Frontier,
    /// `homesteadBlock`.
    Homestead,
    /// `eip150Block` (Tangerine Whistle).
    Tangerine,
    /// `eip158Block` (Spurious Dragon).
    SpuriousDragon,
    /// `byzantiumBlock`.
    Byzantium,
    /// `constantinopleBlock`.
    Constantinople,
    /// `petersburgBlock`.
    Petersburg,
    /// `istanbulBlock`.
    Istanbul,
    /// `muirGlacierBlock`.
    MuirGlacier,
    /// `berlinBlock`.
    Berlin,
    /// `londonBlock`.
    London,
    /// `arrowGlacierBlock`.
    ArrowGlacier,
    /// `grayGlacierBlock`.
    GrayGlacier,
    /// The merge (`mergeNetsplitBlock` / `terminalTotalDifficulty: 0`).
    Paris,
    /// `shanghaiTime`.
    Shanghai,
    /// `cancunTime`.
    Cancun,
    /// `pragueTime`.
    Prague,
    /// `osakaTime`.
    Osaka,
}

impl Hardfork {
    /// Every fork, in order.
    pub const ALL: [Hardfork; 18] = [
        Self::Frontier,
        Self::Homestead,
        Self::Tangerine,
        Self::SpuriousDragon,
        Self::Byzantium,
        Self::Constantinople,
        Self::Petersburg,
        Self::Istanbul,
        Self::MuirGlacier,
        Self::Berlin,
        Self::London,
        Self::ArrowGlacier,
        Self::GrayGlacier,
        Self::Paris,
        Self::Shanghai,
        Self::Cancun,
        Self::Prague,
        Self::Osaka,
    ];

    /// True for the forks scheduled by timestamp (Shanghai and later).
    pub fn is_time_based(self) -> bool {
        self >= Self::Shanghai
    }
}

/// How one fork is configured before the activation rule is applied.
#[derive(Clone, Copy)]
enum Own {
    /// Activates at this block/time, or never (`None`).
    At(Option<u64>),
    /// Optional fork: when unset it follows the fork before it.
    Optional(Option<u64>),
}

/// Effective activation points of every fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkSchedule {
    /// Effective activation block of Frontier..=Paris (`None` = never), indexed by fork order.
    blocks: [Option<u64>; 14],
    /// Effective activation time of Shanghai..=Osaka (`None` = never).
    times: [Option<u64>; 4],
    /// `eip155Block`.
    eip155: Option<u64>,
}

impl ForkSchedule {
    /// Applies the activation rule to a parsed config.
    pub fn new(c: &ChainConfig) -> Self {
        let paris = c
            .merge_netsplit_block
            .or_else(|| c.terminal_total_difficulty.filter(|ttd| ttd.is_zero()).map(|_| 0));
        let block_own = [
            Own::At(Some(0)),
            Own::At(c.homestead_block),
            Own::At(c.eip150_block),
            Own::At(c.eip158_block),
            Own::At(c.byzantium_block),
            Own::At(c.constantinople_block),
            Own::At(c.petersburg_block.or(c.constantinople_block)),
            Own::At(c.istanbul_block),
            Own::Optional(c.muir_glacier_block),
            Own::At(c.berlin_block),
            Own::At(c.london_block),
            Own::Optional(c.arrow_glacier_block),
            Own::Optional(c.gray_glacier_block),
            Own::At(paris),
        ];
        let time_own = [
            Own::At(c.shanghai_time),
            Own::At(c.cancun_time),
            Own::At(c.prague_time),
            Own::At(c.osaka_time),
        ];
        Self {
            blocks: chain(block_own, Some(0)),
            times: chain(time_own, Some(0)),
            eip155: c.eip155_block,
        }
    }

    /// Effective activation block of a block-based fork (`None` = never, or time-based fork).
    pub fn activation_block(&self, fork: Hardfork) -> Option<u64> {
        if fork.is_time_based() {
            return None;
        }
        self.blocks.get(fork as usize).copied().flatten()
    }

    /// Effective activation timestamp of a time-based fork (`None` = never, or block-based fork).
    /// The fork also needs London active at the block.
    pub fn activation_time(&self, fork: Hardfork) -> Option<u64> {
        let idx = (fork as usize).checked_sub(Hardfork::Shanghai as usize)?;
        self.times.get(idx).copied().flatten()
    }

    /// The latest fork active at (`block`, `timestamp`).
    pub fn hardfork_at(&self, block: u64, timestamp: u64) -> Hardfork {
        let mut current = Hardfork::Frontier;
        for fork in Hardfork::ALL.iter().copied().filter(|f| !f.is_time_based()) {
            match self.activation_block(fork) {
                Some(at) if at <= block => current = fork,
                _ => break,
            }
        }
        let london = matches!(self.activation_block(Hardfork::London), Some(at) if at <= block);
        if london {
            for fork in Hardfork::ALL.iter().copied().filter(|f| f.is_time_based()) {
                match self.activation_time(fork) {
                    Some(at) if at <= timestamp => current = fork,
                    _ => break,
                }
            }
        }
        current
    }

    /// Whether EIP-155 replay-protected signatures are accepted at `block`.
    pub fn is_eip155(&self, block: u64) -> bool {
        matches!(self.eip155, Some(at) if at <= block)
    }
}

/// Effective activation = max over the fork and all its predecessors; `None` propagates.
fn chain<const N: usize>(own: [Own; N], start: Option<u64>) -> [Option<u64>; N] {
    let mut out = [None; N];
    let mut prev = start;
    for (slot, own) in out.iter_mut().zip(own) {
        let effective = match own {
            Own::At(at) => max_opt(prev, at),
            Own::Optional(None) => prev,
            Own::Optional(at) => max_opt(prev, at),
        };
        *slot = effective;
        prev = effective;
    }
    out
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    Some(a?.max(b?))
}
