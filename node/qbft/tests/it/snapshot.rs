//! Validator voting through headers, with epoch reset.
//! Reference: GoQuorum consensus/istanbul/backend/engine.go snapApplyHeader, snapshot.go.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256};
use qrs_qbft::{
    Candidates, Flavour, ProposerPolicy, QbftExtra, Snapshot, ValidatorSet, ValidatorVote,
    header::{ISTANBUL_DIGEST, write_ibft_vote},
    snapshot::{SnapshotError, Tally},
};

fn a(b: u8) -> Address {
    Address::repeat_byte(b)
}

fn qbft_header(number: u64, author: Address, vote: Option<(Address, bool)>) -> Header {
    let extra = QbftExtra {
        vanity: vec![0; 32].into(),
        vote: vote.map(|(c, auth)| ValidatorVote::new(c, auth)),
        ..Default::default()
    };
    Header {
        number,
        beneficiary: author,
        mix_hash: ISTANBUL_DIGEST,
        extra_data: extra.to_extra_bytes(),
        ..Default::default()
    }
}

fn genesis(validators: &[Address], epoch: u64) -> Snapshot {
    Snapshot::new(
        epoch,
        0,
        B256::ZERO,
        ValidatorSet::qbft(validators.iter().copied(), ProposerPolicy::RoundRobin),
    )
}

#[test]
fn a_candidate_joins_when_more_than_half_vote() {
    let snap = genesis(&[a(1), a(2), a(3), a(4)], 30000);
    let s1 = snap.apply(&qbft_header(1, a(1), Some((a(5), true))), Flavour::Qbft).unwrap();
    assert_eq!(s1.tally.get(&a(5)), Some(&Tally { authorize: true, votes: 1 }));
    let s2 = s1.apply(&qbft_header(2, a(2), Some((a(5), true))), Flavour::Qbft).unwrap();
    assert!(!s2.validators.contains(&a(5)), "2 of 4 is not more than N/2");
    // A repeated vote by the same validator does not count twice.
    let s3 = s2.apply(&qbft_header(3, a(2), Some((a(5), true))), Flavour::Qbft).unwrap();
    assert_eq!(s3.tally.get(&a(5)).unwrap().votes, 2);
    let s4 = s3.apply(&qbft_header(4, a(3), Some((a(5), true))), Flavour::Qbft).unwrap();
    assert!(s4.validators.contains(&a(5)));
    assert!(s4.tally.is_empty() && s4.votes.is_empty());
    assert_eq!(s4.number, 4);
}

#[test]
fn dropping_a_validator_discards_its_votes() {
    let snap = genesis(&[a(1), a(2), a(3)], 30000);
    // a3 votes to add a9; a1, a2 vote to drop a3.
    let s = snap
        .apply_all(
            &[
                qbft_header(1, a(3), Some((a(9), true))),
                qbft_header(2, a(1), Some((a(3), false))),
                qbft_header(3, a(2), Some((a(3), false))),
            ],
            Flavour::Qbft,
        )
        .unwrap();
    assert_eq!(s.validators.list(), &[a(1), a(2)]);
    assert!(!s.tally.contains_key(&a(9)), "a3's vote for a9 is discarded");
    assert!(s.votes.is_empty());
}

#[test]
fn votes_reset_at_epoch_and_invalid_votes_are_ignored() {
    let snap = genesis(&[a(1), a(2), a(3), a(4)], 3);
    let s = snap
        .apply_all(
            &[qbft_header(1, a(1), Some((a(5), true))), qbft_header(2, a(2), Some((a(5), true)))],
            Flavour::Qbft,
        )
        .unwrap();
    assert_eq!(s.tally.get(&a(5)).unwrap().votes, 2);
    let s = s.apply(&qbft_header(3, a(3), None), Flavour::Qbft).unwrap();
    assert!(s.tally.is_empty() && s.votes.is_empty(), "block 3 is an epoch block");
    // Voting to add an existing validator or drop a non-validator casts nothing.
    let s = s.apply(&qbft_header(4, a(1), Some((a(2), true))), Flavour::Qbft).unwrap();
    let s = s.apply(&qbft_header(5, a(1), Some((a(7), false))), Flavour::Qbft).unwrap();
    assert!(s.tally.is_empty());
}

#[test]
fn apply_rejects_gaps_outsiders_and_bad_votes() {
    let snap = genesis(&[a(1), a(2)], 30000);
    assert_eq!(
        snap.apply(&qbft_header(2, a(1), None), Flavour::Qbft),
        Err(SnapshotError::InvalidVotingChain)
    );
    assert_eq!(
        snap.apply(&qbft_header(1, a(7), None), Flavour::Qbft),
        Err(SnapshotError::Unauthorized)
    );
    let mut bad = qbft_header(1, a(1), None);
    let extra = QbftExtra {
        vanity: vec![0; 32].into(),
        vote: Some(ValidatorVote { recipient: a(5), vote_type: 7 }),
        ..Default::default()
    };
    bad.extra_data = extra.to_extra_bytes();
    assert_eq!(snap.apply(&bad, Flavour::Qbft), Err(SnapshotError::InvalidVote));
}

#[test]
fn ibft_votes_use_coinbase_and_nonce() {
    let keys: Vec<_> = (1..=3).map(crate::common::test_key).collect();
    let addrs: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let mut snap = Snapshot::new(
        30000,
        0,
        B256::ZERO,
        ValidatorSet::new(
            addrs.clone(),
            ProposerPolicy::RoundRobin,
            qrs_qbft::SortOrder::ChecksumString,
        ),
    );
    for (i, key) in keys.iter().take(2).enumerate() {
        let extra = qrs_qbft::IbftExtra { validators: addrs.clone(), ..Default::default() };
        let mut h = Header {
            number: i as u64 + 1,
            mix_hash: ISTANBUL_DIGEST,
            extra_data: extra.to_extra_bytes(),
            ..Default::default()
        };
        write_ibft_vote(&mut h, a(0x77), true);
        let seal = qrs_qbft::seal::ibft_proposer_seal(key, &h).unwrap();
        qrs_qbft::seal::write_ibft_proposer_seal(&mut h, &seal).unwrap();
        snap = snap.apply(&h, Flavour::Ibft).unwrap();
    }
    assert!(snap.validators.contains(&a(0x77)));
}

#[test]
fn candidates_queue_votes_that_change_the_set() {
    let snap = genesis(&[a(1), a(2)], 30000);
    let mut c = Candidates::default();
    c.propose(a(1), true); // already a validator: no effect
    assert_eq!(c.next_vote(&snap), None);
    c.propose(a(5), true);
    assert_eq!(c.next_vote(&snap), Some((a(5), true)));
    c.discard(&a(5));
    c.propose(a(2), false);
    assert_eq!(c.next_vote(&snap), Some((a(2), false)));
    assert_eq!(c.all().len(), 2);
}
