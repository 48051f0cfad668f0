//! Seal signing and recovery (GoQuorum qbft/core/commit.go, qbft/engine/engine.go,
//! ibft/core/core.go, ibft/engine/engine.go).

use alloy_consensus::Header;
use alloy_primitives::{B256, keccak256};
use qrs_qbft::{
    IbftExtra, QbftExtra, ValidatorSet,
    crypto::{recover_digest, recover_hashed},
    header::{
        ISTANBUL_DIGEST, commit_qbft_header, ibft_sig_hash, istanbul_block_hash, qbft_seal_digest,
    },
    seal::{
        SealError, ibft_author, ibft_committed_seal, ibft_committers, ibft_proposer_seal,
        qbft_committed_seal, qbft_committers, verify_committed_seals, write_ibft_proposer_seal,
    },
    validator::ProposerPolicy,
};

use crate::common::{quickstart_validator, test_key};

#[test]
fn quickstart_node_keys_derive_the_validator_addresses() {
    for i in 1..=4 {
        let (key, address) = quickstart_validator(i);
        assert_eq!(key.address(), address, "validator{i}");
    }
}

#[test]
fn qbft_committed_seals_recover_to_the_committers() {
    let keys: Vec<_> = (1..=4).map(|i| quickstart_validator(i).0).collect();
    let set = ValidatorSet::qbft(keys.iter().map(|k| k.address()), ProposerPolicy::RoundRobin);
    let extra = QbftExtra {
        vanity: vec![0; 32].into(),
        validators: set.list().to_vec(),
        ..Default::default()
    };
    let mut header = Header {
        number: 1,
        mix_hash: ISTANBUL_DIGEST,
        beneficiary: keys[0].address(),
        extra_data: extra.to_extra_bytes(),
        ..Default::default()
    };
    let round = 2;
    let seals: Vec<[u8; 65]> =
        keys[..3].iter().map(|k| qbft_committed_seal(k, &header, round).unwrap()).collect();
    // The seal is a plain signature of QbftHashWithRoundNumber (SignWithoutHashing).
    let digest = qbft_seal_digest(&header, round).unwrap();
    assert_eq!(recover_digest(&digest, &seals[0]).unwrap(), keys[0].address());
    assert!(seals.iter().all(|s| s[64] <= 1));

    commit_qbft_header(&mut header, &seals, round).unwrap();
    let committers = qbft_committers(&header).unwrap();
    assert_eq!(committers, keys[..3].iter().map(|k| k.address()).collect::<Vec<_>>());
    verify_committed_seals(&committers, &set).unwrap();

    // More than F (=1) distinct validators are enough; duplicates and outsiders are not.
    verify_committed_seals(&committers[..2], &set).unwrap();
    assert_eq!(
        verify_committed_seals(&committers[..1], &set),
        Err(SealError::InvalidCommittedSeals)
    );
    assert_eq!(
        verify_committed_seals(&[committers[0], committers[0]], &set),
        Err(SealError::InvalidCommittedSeals)
    );
    assert_eq!(
        verify_committed_seals(&[test_key(9).address(), committers[0]], &set),
        Err(SealError::InvalidCommittedSeals)
    );
    assert_eq!(verify_committed_seals(&[], &set), Err(SealError::EmptyCommittedSeals));

    // A seal for another round recovers to someone else.
    let wrong = qbft_committed_seal(&keys[3], &header, round + 1).unwrap();
    commit_qbft_header(&mut header, &[wrong], round).unwrap();
    assert_ne!(qbft_committers(&header).unwrap()[0], keys[3].address());
}

#[test]
fn signing_is_deterministic_and_recovery_checks_format() {
    let key = test_key(1);
    let d = B256::repeat_byte(0x42);
    assert_eq!(key.sign_digest(&d), key.sign_digest(&d));
    let sig = key.sign_digest(&d);
    let mut bad_v = sig;
    bad_v[64] = 4;
    assert!(recover_digest(&d, &bad_v).is_err());
    assert!(recover_digest(&d, &sig[..64]).is_err());
    assert!(recover_digest(&d, &[0u8; 65]).is_err());
    assert_eq!(recover_hashed(b"abc", &key.sign_hashed(b"abc")).unwrap(), key.address());
    assert_eq!(
        recover_digest(&keccak256(b"abc"), &key.sign_hashed(b"abc")).unwrap(),
        key.address()
    );
}

#[test]
fn ibft_proposer_and_committed_seals() {
    let keys: Vec<_> = (1..=4).map(|i| quickstart_validator(i).0).collect();
    let extra =
        IbftExtra { validators: keys.iter().map(|k| k.address()).collect(), ..Default::default() };
    let mut header = Header {
        number: 3,
        mix_hash: ISTANBUL_DIGEST,
        extra_data: extra.to_extra_bytes(),
        ..Default::default()
    };
    let seal = ibft_proposer_seal(&keys[1], &header).unwrap();
    // Proposer seal = sign(keccak(sigHash)).
    assert_eq!(
        recover_digest(&keccak256(ibft_sig_hash(&header).unwrap()), &seal).unwrap(),
        keys[1].address()
    );
    write_ibft_proposer_seal(&mut header, &seal).unwrap();
    assert_eq!(ibft_author(&header).unwrap(), keys[1].address());

    // The IBFT block hash keeps the proposer seal and drops the committed seals.
    let hash = istanbul_block_hash(&header);
    let committed: Vec<_> = keys.iter().map(|k| ibft_committed_seal(k, &hash)).collect();
    let mut extra = IbftExtra::decode_extra(&header.extra_data).unwrap();
    extra.committed_seals = committed.iter().map(|s| s.to_vec().into()).collect();
    header.extra_data = extra.to_extra_bytes();
    assert_eq!(istanbul_block_hash(&header), hash);
    let mut data = hash.to_vec();
    data.push(0x02);
    assert_eq!(recover_hashed(&data, &committed[0]).unwrap(), keys[0].address());
    assert_eq!(
        ibft_committers(&header).unwrap(),
        keys.iter().map(|k| k.address()).collect::<Vec<_>>()
    );
}
