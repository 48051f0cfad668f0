//! Validator set rules: F, quorum size, ordering and proposer selection.
//! Reference: GoQuorum consensus/istanbul/validator/default.go, default_test.go,
//! proposerpolicy_test.go; qbft/core/core.go QuorumSize.

use alloy_primitives::Address;
use qrs_qbft::{ProposerPolicy, SortOrder, ValidatorSet};

fn a(b: u8) -> Address {
    Address::repeat_byte(b)
}

#[test]
fn f_and_quorum_size_table() {
    // (N, F, 2F+1, ceil(2N/3))
    let table = [
        (1, 0, 1, 1),
        (2, 0, 1, 2),
        (3, 0, 1, 2),
        (4, 1, 3, 3),
        (5, 1, 3, 4),
        (6, 1, 3, 4),
        (7, 2, 5, 5),
        (8, 2, 5, 6),
        (9, 2, 5, 6),
        (10, 3, 7, 7),
        (100, 33, 67, 67),
    ];
    for (n, f, two_f1, ceil) in table {
        let set = ValidatorSet::qbft((1..=n).map(|i| a(i as u8)), ProposerPolicy::RoundRobin);
        assert_eq!(set.f(), f, "F for N={n}");
        assert_eq!(set.quorum_size(10, None), two_f1, "2F+1 for N={n}");
        assert_eq!(set.quorum_size(10, Some(0)), ceil, "ceil(2N/3) for N={n}");
        // Before ceil2Nby3Block the old formula applies.
        assert_eq!(set.quorum_size(9, Some(10)), two_f1);
        assert_eq!(set.quorum_size(10, Some(10)), ceil);
    }
    let empty = ValidatorSet::qbft([], ProposerPolicy::RoundRobin);
    assert_eq!(empty.f(), 0);
    assert_eq!(empty.proposer(Address::ZERO, 0), None);
}

#[test]
fn qbft_orders_by_bytes_ibft_by_checksum_string() {
    // Lower-case hex "0xaa.." sorts after "0x1..", but EIP-55 may upper-case letters.
    // EIP-55 upper-cases some hex letters and '0'..'9' < 'A'..'F' < 'a'..'f' in byte order,
    // so checksum order differs from byte order for some of these.
    let addrs: Vec<Address> =
        (0..=255u8).map(|b| Address::repeat_byte(b.rotate_left(3) ^ 0x5a)).collect();
    let q = ValidatorSet::new(addrs.clone(), ProposerPolicy::RoundRobin, SortOrder::Bytes);
    let mut sorted = addrs.clone();
    sorted.sort();
    assert_eq!(q.list(), sorted.as_slice());
    let i = ValidatorSet::new(addrs.clone(), ProposerPolicy::RoundRobin, SortOrder::ChecksumString);
    let mut by_str = addrs.clone();
    by_str.sort_by_key(|a| a.to_checksum(None));
    assert_eq!(i.list(), by_str.as_slice());
    assert_ne!(i.list(), q.list(), "the fixture should distinguish the two orders");
}

// Reference: GoQuorum validator/default_test.go testStickyProposer / round-robin cases.
#[test]
fn proposer_selection_round_robin_and_sticky() {
    let rr = ValidatorSet::qbft([a(1), a(2), a(3), a(4)], ProposerPolicy::RoundRobin);
    // Genesis (no last proposer): index = round.
    assert_eq!(rr.proposer(Address::ZERO, 0), Some(a(1)));
    assert_eq!(rr.proposer(Address::ZERO, 5), Some(a(2)));
    // After a(2) proposed: index(a2)+round+1.
    assert_eq!(rr.proposer(a(2), 0), Some(a(3)));
    assert_eq!(rr.proposer(a(2), 1), Some(a(4)));
    assert_eq!(rr.proposer(a(2), 2), Some(a(1)));
    // Unknown last proposer: offset 0, so round+1.
    assert_eq!(rr.proposer(a(9), 0), Some(a(2)));

    let sticky = ValidatorSet::qbft([a(1), a(2), a(3), a(4)], ProposerPolicy::Sticky);
    assert_eq!(sticky.proposer(Address::ZERO, 0), Some(a(1)));
    assert_eq!(sticky.proposer(a(2), 0), Some(a(2)));
    assert_eq!(sticky.proposer(a(2), 1), Some(a(3)));
    assert_eq!(sticky.proposer(a(4), 1), Some(a(1)));
    // Go adds uint64s with wrap-around: index 1 + MAX = 0.
    assert_eq!(sticky.proposer(a(2), u64::MAX), Some(a(1)));
}

#[test]
fn add_and_remove_keep_order() {
    let mut s = ValidatorSet::qbft([a(3), a(1)], ProposerPolicy::RoundRobin);
    assert!(s.add(a(2)));
    assert!(!s.add(a(2)));
    assert_eq!(s.list(), &[a(1), a(2), a(3)]);
    assert!(s.remove(&a(1)));
    assert!(!s.remove(&a(1)));
    assert_eq!(s.list(), &[a(2), a(3)]);
    assert_eq!(ProposerPolicy::from_id(1), Some(ProposerPolicy::Sticky));
    assert_eq!(ProposerPolicy::from_id(2), None);
}
