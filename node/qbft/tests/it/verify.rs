//! QBFT header verification (GoQuorum qbft/engine/engine.go verifyHeader and friends).

use alloy_consensus::Header;
use alloy_primitives::U256;
use qrs_qbft::{
    ProposerPolicy, QbftExtra, ValidatorSet,
    header::{commit_qbft_header, istanbul_block_hash, prepare_qbft_header},
    seal::qbft_committed_seal,
    verify::{HeaderError, verify_qbft_header},
};

use crate::common::test_key;

#[test]
fn header_rules_table() {
    let keys: Vec<_> = (0..4).map(test_key).collect();
    let set = ValidatorSet::qbft(keys.iter().map(|k| k.address()), ProposerPolicy::RoundRobin);
    let parent = Header {
        number: 9,
        timestamp: 100,
        extra_data: QbftExtra {
            vanity: vec![0; 32].into(),
            validators: set.list().to_vec(),
            ..Default::default()
        }
        .to_extra_bytes(),
        mix_hash: qrs_qbft::ISTANBUL_DIGEST,
        ..Default::default()
    };
    let mut good =
        Header { number: 10, parent_hash: istanbul_block_hash(&parent), ..Default::default() };
    prepare_qbft_header(&mut good, keys[0].address(), 100, 5, 0, set.list(), None).unwrap();
    let seals: Vec<_> =
        keys[..2].iter().map(|k| qbft_committed_seal(k, &good, 1).unwrap()).collect();
    commit_qbft_header(&mut good, &seals, 1).unwrap();
    let check = |h: &Header| verify_qbft_header(h, &parent, &set, 5, 105, 0);
    assert_eq!(check(&good), Ok(()));

    type Mutate = fn(&mut Header);
    let cases: [(Mutate, HeaderError); 7] = [
        (|h| h.timestamp = 200, HeaderError::FutureBlock),
        (|h| h.mix_hash = Default::default(), HeaderError::InvalidMixDigest),
        (|h| h.ommers_hash = Default::default(), HeaderError::InvalidUncleHash),
        (|h| h.difficulty = U256::from(2), HeaderError::InvalidDifficulty),
        (|h| h.number = 11, HeaderError::UnknownAncestor),
        (|h| h.timestamp = 104, HeaderError::InvalidTimestamp),
        (|h| h.beneficiary = Default::default(), HeaderError::Unauthorized),
    ];
    for (mutate, expected) in cases {
        let mut h = good.clone();
        mutate(&mut h);
        assert_eq!(check(&h), Err(expected.clone()), "{expected}");
    }
    let mut bad_extra = good.clone();
    bad_extra.extra_data = vec![0xc0, 0x01].into();
    assert_eq!(check(&bad_extra), Err(HeaderError::InvalidExtraDataFormat));
    // One seal is not more than F = 1.
    let mut one = good.clone();
    commit_qbft_header(&mut one, &seals[..1], 1).unwrap();
    assert!(matches!(check(&one), Err(HeaderError::Seals(_))));
}
