//! extraData encodings and the istanbul block hash, checked against GoQuorum's own test vectors
//! and the quickstart genesis files.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes};
use proptest::prelude::*;
use qrs_qbft::{
    IbftExtra, QbftExtra, ValidatorVote,
    extra::{ExtraError, QBFT_AUTH_VOTE},
    header::{
        ISTANBUL_DIGEST, commit_qbft_header, istanbul_block_hash, qbft_seal_digest, read_qbft_vote,
    },
};

use crate::common::{QUICKSTART, addr, go_zero_header, hex_bytes};

fn goquorum_test_validators() -> Vec<Address> {
    [
        "0x44add0ec310f115a0e603b2d7db9f067778eaf8a",
        "0x294fc7e8f22b3bcdcf955dd7ff3ba2ed833f8212",
        "0x6beaaed781d2d2ab6350f5c4566a2c6eaac407a6",
        "0x8be76812f765c24641ec63dc2852b378aba2b440",
    ]
    .iter()
    .map(|s| addr(s))
    .collect()
}

// Source: GoQuorum core/types/istanbul_test.go TestHeaderHash.
#[test]
fn goquorum_ibft_header_hash_vector() {
    let extra = hex_bytes(
        "0x0000000000000000000000000000000000000000000000000000000000000000f89af8549444add0ec310f115a0e603b2d7db9f067778eaf8a94294fc7e8f22b3bcdcf955dd7ff3ba2ed833f8212946beaaed781d2d2ab6350f5c4566a2c6eaac407a6948be76812f765c24641ec63dc2852b378aba2b440b8410000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0",
    );
    let expected: B256 =
        "0xcefefd3ade63a5955bca4562ed840b67f39e74df217f7e5f7241a6e9552cca70".parse().unwrap();
    let mut header =
        Header { mix_hash: ISTANBUL_DIGEST, extra_data: extra.clone().into(), ..go_zero_header() };
    assert_eq!(istanbul_block_hash(&header), expected);

    // Appending junk makes both decoders fail: the plain RLP hash applies.
    let mut junk = extra;
    junk.extend_from_slice(&[1, 2, 3]);
    header.extra_data = junk.into();
    assert_eq!(istanbul_block_hash(&header), header.hash_slow());
}

// Source: GoQuorum core/types/istanbul_test.go TestExtractToQbftExtra.
#[test]
fn goquorum_extract_qbft_extra_vector() {
    let raw = hex_bytes(
        "0xf85a80f8549444add0ec310f115a0e603b2d7db9f067778eaf8a94294fc7e8f22b3bcdcf955dd7ff3ba2ed833f8212946beaaed781d2d2ab6350f5c4566a2c6eaac407a6948be76812f765c24641ec63dc2852b378aba2b440c080c0",
    );
    let extra = QbftExtra::decode_extra(&raw).unwrap();
    assert_eq!(extra, QbftExtra { validators: goquorum_test_validators(), ..Default::default() });
    assert_eq!(extra.to_extra_bytes().as_ref(), raw.as_slice());
}

// Source: GoQuorum core/types/istanbul_test.go TestExtractToIstanbul.
#[test]
fn goquorum_extract_ibft_extra_vector() {
    let mut raw = vec![0u8; 32];
    raw.extend(hex_bytes("0xf858f8549444add0ec310f115a0e603b2d7db9f067778eaf8a94294fc7e8f22b3bcdcf955dd7ff3ba2ed833f8212946beaaed781d2d2ab6350f5c4566a2c6eaac407a6948be76812f765c24641ec63dc2852b378aba2b44080c0"));
    let extra = IbftExtra::decode_extra(&raw).unwrap();
    assert_eq!(extra.validators, goquorum_test_validators());
    assert!(extra.seal.is_empty() && extra.committed_seals.is_empty());
    assert_eq!(extra.to_extra_bytes().as_ref(), raw.as_slice());
    // Insufficient vanity.
    assert_eq!(IbftExtra::decode_extra(&[0u8; 31]), Err(ExtraError::TooShort));
}

// Source: GoQuorum consensus/istanbul/qbft/engine/engine_test.go TestPrepareExtra.
#[test]
fn goquorum_prepare_extra_vector() {
    let expected = hex_bytes(
        "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549444add0ec310f115a0e603b2d7db9f067778eaf8a94294fc7e8f22b3bcdcf955dd7ff3ba2ed833f8212946beaaed781d2d2ab6350f5c4566a2c6eaac407a6948be76812f765c24641ec63dc2852b378aba2b440c080c0",
    );
    let mut extra = QbftExtra::from_header_extra_or_vanity(&[]).unwrap();
    extra.validators = goquorum_test_validators();
    assert_eq!(extra.to_extra_bytes().as_ref(), expected.as_slice());
}

// Source: GoQuorum qbft/engine/engine_test.go TestWriteCommittedSeals, TestWriteRoundNumber,
// TestWriteValidatorVote.
#[test]
fn goquorum_write_seals_round_and_vote_vectors() {
    let raw = hex_bytes(
        "0xf85a80f8549444add0ec310f115a0e603b2d7db9f067778eaf8a94294fc7e8f22b3bcdcf955dd7ff3ba2ed833f8212946beaaed781d2d2ab6350f5c4566a2c6eaac407a6948be76812f765c24641ec63dc2852b378aba2b440c080c0",
    );
    let mut seal = [0u8; 65];
    seal[..3].copy_from_slice(&[1, 2, 3]);
    let mut header = Header { extra_data: raw.into(), ..Default::default() };
    commit_qbft_header(&mut header, &[seal], 0).unwrap();
    let extra = QbftExtra::decode_extra(&header.extra_data).unwrap();
    assert_eq!(extra.committed_seals, vec![Bytes::from(seal.to_vec())]);
    assert_eq!(extra.validators, goquorum_test_validators());
    assert!(commit_qbft_header(&mut header, &[], 0).is_err());

    // Round 5 is `05` in the round slot.
    let raw5 = hex_bytes(
        "0xf85a80f8549444add0ec310f115a0e603b2d7db9f067778eaf8a94294fc7e8f22b3bcdcf955dd7ff3ba2ed833f8212946beaaed781d2d2ab6350f5c4566a2c6eaac407a6948be76812f765c24641ec63dc2852b378aba2b440c005c0",
    );
    assert_eq!(QbftExtra::decode_extra(&raw5).unwrap().round, 5);

    let candidate = addr("0x44add0ec310f115a0e603b2d7db9f06777123456");
    let with_vote = QbftExtra {
        vote: Some(ValidatorVote::new(candidate, true)),
        ..QbftExtra::decode_extra(&raw5).unwrap()
    };
    let h = Header { extra_data: with_vote.to_extra_bytes(), ..Default::default() };
    assert_eq!(read_qbft_vote(&h), Some((candidate, true)));
    assert_eq!(with_vote.vote.unwrap().vote_type, QBFT_AUTH_VOTE);
}

// The quickstart genesis files decode to the four quickstart validators.
#[test]
fn quickstart_qbft_genesis_extra_has_the_four_validators() {
    let mut expected: Vec<Address> = (1..=4)
        .map(|i| {
            addr(
                &std::fs::read_to_string(format!("{QUICKSTART}/nodes/validator{i}/address"))
                    .unwrap(),
            )
        })
        .collect();
    for name in ["qbft-standard-genesis.json", "qbft-enhanced-genesis.json"] {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{QUICKSTART}/genesis/{name}")).unwrap(),
        )
        .unwrap();
        let raw = hex_bytes(json["extraData"].as_str().unwrap());
        let extra = QbftExtra::decode_extra(&raw).unwrap();
        assert_eq!(extra.vanity.as_ref(), &[0u8; 32]);
        assert_eq!(extra.vote, None);
        assert_eq!(extra.round, 0);
        assert!(extra.committed_seals.is_empty());
        let mut got = extra.validators.clone();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{name}");
        // Re-encoding is byte-identical.
        assert_eq!(extra.to_extra_bytes().as_ref(), raw.as_slice());
        // QBFT extra is not mistaken for IBFT.
        assert!(IbftExtra::decode_extra(&raw).is_err());
    }
    for name in ["istanbul-standard-genesis.json", "istanbul-enhanced-genesis.json"] {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{QUICKSTART}/genesis/{name}")).unwrap(),
        )
        .unwrap();
        let raw = hex_bytes(json["extraData"].as_str().unwrap());
        let extra = IbftExtra::decode_extra(&raw).unwrap();
        let mut got = extra.validators.clone();
        got.sort();
        assert_eq!(got, expected, "{name}");
        assert_eq!(extra.seal.len(), 65);
        assert_eq!(extra.to_extra_bytes().as_ref(), raw.as_slice());
    }
}

// Go rlp strictness: an empty string is not a nil vote; a single 0x00 byte is not canonical.
#[test]
fn qbft_extra_rejects_what_go_rejects() {
    let ok =
        QbftExtra { vanity: vec![0; 32].into(), ..Default::default() }.to_extra_bytes().to_vec();
    // Trailing byte.
    let mut trailing = ok.clone();
    trailing.push(0);
    assert!(QbftExtra::decode_extra(&trailing).is_err());
    // Vote slot (after vanity a0+32 and validators c0) as 0x80 instead of 0xc0.
    let mut bad_vote = ok.clone();
    let vote_pos = 1 + 33 + 1;
    assert_eq!(bad_vote[vote_pos], 0xc0);
    bad_vote[vote_pos] = 0x80;
    assert!(QbftExtra::decode_extra(&bad_vote).is_err());
    // Round encoded as 0x00 (non-canonical zero).
    let mut bad_round = ok.clone();
    assert_eq!(bad_round[vote_pos + 1], 0x80);
    bad_round[vote_pos + 1] = 0x00;
    assert!(QbftExtra::decode_extra(&bad_round).is_err());
    // A 19-byte address: `d9 80 d4 93 <19 bytes> c0 80 c0`.
    let mut s = vec![0xd9, 0x80, 0xd4, 0x93];
    s.extend([0u8; 19]);
    s.extend([0xc0, 0x80, 0xc0]);
    assert!(QbftExtra::decode_extra(&s).is_err());
    // The same with 20 bytes decodes.
    let mut s = vec![0xda, 0x80, 0xd5, 0x94];
    s.extend([0u8; 20]);
    s.extend([0xc0, 0x80, 0xc0]);
    assert_eq!(QbftExtra::decode_extra(&s).unwrap().validators, vec![Address::ZERO]);
}

#[test]
fn committed_seals_and_round_do_not_change_the_block_hash() {
    let extra = QbftExtra {
        vanity: vec![0; 32].into(),
        validators: goquorum_test_validators(),
        ..Default::default()
    };
    let mut header = Header {
        mix_hash: ISTANBUL_DIGEST,
        number: 7,
        extra_data: extra.to_extra_bytes(),
        ..Default::default()
    };
    let before = istanbul_block_hash(&header);
    let seal_digest_r3 = qbft_seal_digest(&header, 3).unwrap();
    commit_qbft_header(&mut header, &[[7u8; 65], [8u8; 65]], 3).unwrap();
    assert_eq!(istanbul_block_hash(&header), before);
    // The seal digest at round 3 is independent of the seals and differs from round 0's.
    assert_eq!(qbft_seal_digest(&header, 3).unwrap(), seal_digest_r3);
    assert_ne!(seal_digest_r3, before);
    assert_eq!(qbft_seal_digest(&header, 0).unwrap(), before);
}

fn arb_qbft_extra() -> impl Strategy<Value = QbftExtra> {
    (
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::collection::vec(any::<[u8; 20]>(), 0..8),
        proptest::option::of((any::<[u8; 20]>(), any::<u8>())),
        any::<u32>(),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..70), 0..5),
    )
        .prop_map(|(vanity, vals, vote, round, seals)| QbftExtra {
            vanity: vanity.into(),
            validators: vals.into_iter().map(Address::from).collect(),
            vote: vote.map(|(a, t)| ValidatorVote { recipient: Address::from(a), vote_type: t }),
            round,
            committed_seals: seals.into_iter().map(Bytes::from).collect(),
        })
}

proptest! {
    #[test]
    fn qbft_extra_roundtrips(extra in arb_qbft_extra()) {
        let bytes = extra.to_extra_bytes();
        prop_assert_eq!(bytes.len(), alloy_rlp::Encodable::length(&extra));
        prop_assert_eq!(QbftExtra::decode_extra(&bytes).unwrap(), extra);
    }

    #[test]
    fn ibft_extra_roundtrips(
        vanity in any::<[u8; 32]>(),
        vals in proptest::collection::vec(any::<[u8; 20]>(), 0..8),
        seal in proptest::collection::vec(any::<u8>(), 0..70),
        seals in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..70), 0..5),
    ) {
        let extra = IbftExtra {
            vanity,
            validators: vals.into_iter().map(Address::from).collect(),
            seal: seal.into(),
            committed_seals: seals.into_iter().map(Bytes::from).collect(),
        };
        prop_assert_eq!(IbftExtra::decode_extra(&extra.to_extra_bytes()).unwrap(), extra);
    }

    #[test]
    fn arbitrary_extra_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = QbftExtra::decode_extra(&bytes);
        let _ = IbftExtra::decode_extra(&bytes);
        let header = Header { mix_hash: ISTANBUL_DIGEST, extra_data: bytes.into(), ..Default::default() };
        let _ = istanbul_block_hash(&header);
        let _ = qbft_seal_digest(&header, 1);
        let _ = qrs_qbft::seal::qbft_committers(&header);
        let _ = qrs_qbft::seal::ibft_author(&header);
    }

    #[test]
    fn mutated_valid_extra_never_panics(extra in arb_qbft_extra(), idx in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = extra.to_extra_bytes().to_vec();
        if !bytes.is_empty() {
            let i = idx % bytes.len();
            bytes[i] = byte;
        }
        if let Ok(decoded) = QbftExtra::decode_extra(&bytes) {
            // Canonical RLP: whatever decodes re-encodes byte for byte.
            prop_assert_eq!(decoded.to_extra_bytes().to_vec(), bytes);
        }
    }
}
