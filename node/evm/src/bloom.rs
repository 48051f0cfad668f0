//! Receipt log blooms, with the Keccak of inputs that repeat within a block computed once.
//!
//! A bloom hashes a log's address and each topic. In a block of token transfers every log has
//! the same address and the same first topic (the event signature), so half of those hashes
//! are of inputs already hashed for an earlier receipt.

use std::hash::{BuildHasher, Hash};

use alloy_primitives::{
    Address, B256, Bloom, BloomInput, Log, keccak256,
    map::{AddressMap, B256Map, HashMap},
};

/// Inputs remembered per kind, at most (a block of distinct inputs then hashes the rest as
/// usual).
const REMEMBERED: usize = 4_096;

/// Computes log blooms, remembering the Keccak of the addresses and topics it has seen (one
/// per block executor).
#[derive(Debug, Default)]
pub(crate) struct BloomHasher {
    addresses: AddressMap<B256>,
    topics: B256Map<B256>,
}

impl BloomHasher {
    /// The bloom of `logs`, equal to [`alloy_primitives::logs_bloom`].
    pub(crate) fn logs_bloom(&mut self, logs: &[Log]) -> Bloom {
        let mut bloom = Bloom::ZERO;
        for log in logs {
            bloom.accrue(BloomInput::Hash(self.address_hash(log.address)));
            for topic in log.topics() {
                bloom.accrue(BloomInput::Hash(self.topic_hash(*topic)));
            }
        }
        bloom
    }

    fn address_hash(&mut self, address: Address) -> B256 {
        remembered(&mut self.addresses, address)
    }

    fn topic_hash(&mut self, topic: B256) -> B256 {
        remembered(&mut self.topics, topic)
    }
}

/// The Keccak of `input`, from `seen` when it was hashed before (remembered while `seen` holds
/// fewer than [`REMEMBERED`]).
fn remembered<K, S>(seen: &mut HashMap<K, B256, S>, input: K) -> B256
where
    K: AsRef<[u8]> + Eq + Hash + Copy,
    S: BuildHasher,
{
    if let Some(hash) = seen.get(&input) {
        return *hash;
    }
    let hash = keccak256(input);
    if seen.len() < REMEMBERED {
        seen.insert(input, hash);
    }
    hash
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, LogData};
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Equal to alloy's bloom for every receipt, with inputs repeating across receipts and
        /// more distinct inputs than are remembered.
        #[test]
        fn equals_alloys_logs_bloom(
            receipts in prop::collection::vec(
                prop::collection::vec((0u16..6_000, prop::collection::vec(0u16..6_000, 0..5)), 0..4),
                1..60,
            ),
            offset in 0u16..3,
        ) {
            let mut hasher = BloomHasher::default();
            // fill the memo past its limit first, so later inputs may be new and unremembered
            let filler: Vec<Log> = (0..REMEMBERED as u16 + 10)
                .map(|i| log(i.wrapping_mul(7).wrapping_add(offset), &[i]))
                .collect();
            prop_assert_eq!(hasher.logs_bloom(&filler), alloy_primitives::logs_bloom(&filler));
            for spec in receipts {
                let logs: Vec<Log> = spec.iter().map(|(a, topics)| log(*a, topics)).collect();
                prop_assert_eq!(hasher.logs_bloom(&logs), alloy_primitives::logs_bloom(&logs));
            }
        }
    }

    fn log(address: u16, topics: &[u16]) -> Log {
        let address = Address::left_padding_from(&address.to_be_bytes());
        let topics = topics.iter().map(|t| B256::left_padding_from(&t.to_be_bytes())).collect();
        Log { address, data: LogData::new_unchecked(topics, Bytes::new()) }
    }
}
