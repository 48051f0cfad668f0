//! QBFT message encodings (GoQuorum consensus/istanbul/qbft/types/*.go).

use alloy_consensus::Header;
use alloy_primitives::{B256, Bytes};
use proptest::prelude::*;
use qrs_qbft::{
    Proposal, QbftExtra, RawBlock,
    header::ISTANBUL_DIGEST,
    messages::{
        COMMIT_CODE, Commit, Message, MessageError, PREPARE_CODE, PREPREPARE_CODE, Prepare,
        Prepared, Preprepare, ROUND_CHANGE_CODE, RoundChange, SignedRoundChange, View,
    },
};

use crate::common::{hex_bytes, test_key};

pub fn block(number: u64, salt: u8) -> RawBlock {
    let extra = QbftExtra { vanity: vec![salt; 32].into(), ..Default::default() };
    RawBlock::empty(Header {
        number,
        mix_hash: ISTANBUL_DIGEST,
        extra_data: extra.to_extra_bytes(),
        ..Default::default()
    })
}

fn roundtrip(m: Message<RawBlock>) {
    let bytes = m.encode_payload();
    let back = Message::<RawBlock>::decode(m.code(), &bytes).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.encode_payload(), bytes);
}

#[test]
fn prepare_wire_and_signing_bytes_match_goquorum_shapes() {
    let key = test_key(0);
    let digest = B256::repeat_byte(0xab);
    let p = Prepare::signed(&key, View { sequence: 1, round: 0 }, digest);
    // Signing payload: rlp([0x13, [1, 0, digest]]) = e5 13 e3 01 80 a0 <digest>.
    let mut expected = hex_bytes("e513e30180a0");
    expected.extend_from_slice(digest.as_slice());
    assert_eq!(p.signing_payload(), expected);
    // Wire: rlp([[1, 0, digest], sig]) = f8 67 e3 01 80 a0 <digest> b8 41 <sig>.
    let wire = alloy_rlp::encode(&p);
    assert_eq!(&wire[..4], &hex_bytes("f867e301"));
    assert_eq!(&wire[38..40], &hex_bytes("b841"));
    assert_eq!(p.signer().unwrap(), key.address());
    roundtrip(Message::Prepare(p));
}

#[test]
fn all_messages_roundtrip_and_recover_their_signer() {
    let key = test_key(3);
    let view = View { sequence: 9, round: 2 };
    let b = block(9, 1);
    let prepare = Prepare::signed(&key, view, b.hash());
    let commit = Commit::signed(&key, view, b.hash(), [5u8; 65]);
    let rc_nil = SignedRoundChange::signed(&key, view, None);
    let rc_prep =
        SignedRoundChange::signed(&key, view, Some(Prepared { round: 1, digest: b.hash() }));
    let rc = RoundChange {
        payload: rc_prep.clone(),
        prepared_block: Some(b.clone()),
        justification: vec![prepare.clone()],
    };
    let rc_empty: RoundChange<RawBlock> =
        RoundChange { payload: rc_nil.clone(), prepared_block: None, justification: vec![] };
    let pp = Preprepare::signed(
        &key,
        view,
        b.clone(),
        vec![rc_nil.clone(), rc_prep.clone()],
        vec![prepare.clone()],
    );
    for m in
        [&prepare.signer(), &commit.signer(), &rc_nil.signer(), &rc_prep.signer(), &pp.signer()]
    {
        assert_eq!(m.as_ref().unwrap(), &key.address());
    }
    roundtrip(Message::Prepare(prepare));
    roundtrip(Message::Commit(commit));
    roundtrip(Message::RoundChange(rc));
    roundtrip(Message::RoundChange(rc_empty.clone()));
    roundtrip(Message::Preprepare(pp));
    // A nil prepared block and empty justification are both written as 0xc0 (Go nil pointer/slice).
    let bytes = alloy_rlp::encode(&rc_empty);
    assert_eq!(&bytes[bytes.len() - 2..], &[0xc0, 0xc0]);
}

#[test]
fn round_change_with_a_block_that_does_not_match_the_digest_is_refused() {
    let key = test_key(1);
    let view = View { sequence: 4, round: 1 };
    let rc = RoundChange {
        payload: SignedRoundChange::signed(
            &key,
            view,
            Some(Prepared { round: 0, digest: B256::repeat_byte(1) }),
        ),
        prepared_block: Some(block(4, 2)),
        justification: vec![],
    };
    let bytes = alloy_rlp::encode(&rc);
    assert_eq!(
        Message::<RawBlock>::decode(ROUND_CHANGE_CODE, &bytes),
        Err(MessageError::PreparedBlockMismatch)
    );
}

#[test]
fn bad_codes_trailing_bytes_and_wrong_shapes_are_errors() {
    let key = test_key(1);
    let p = Prepare::signed(&key, View { sequence: 1, round: 0 }, B256::ZERO);
    let mut bytes = alloy_rlp::encode(&p);
    assert_eq!(Message::<RawBlock>::decode(0x11, &bytes), Err(MessageError::UnknownCode(0x11)));
    assert!(Message::<RawBlock>::decode(COMMIT_CODE, &bytes).is_err());
    assert!(Message::<RawBlock>::decode(PREPREPARE_CODE, &bytes).is_err());
    bytes.push(0);
    assert!(Message::<RawBlock>::decode(PREPARE_CODE, &bytes).is_err());
    // A prepared list with one element is malformed.
    let bad_payload = hex_bytes("c6c40102c10380c0c0");
    assert!(Message::<RawBlock>::decode(ROUND_CHANGE_CODE, &bad_payload).is_err());
    assert!(Message::<RawBlock>::decode(ROUND_CHANGE_CODE, &[]).is_err());
}

#[test]
fn zero_prepared_digest_encodes_as_not_prepared() {
    let key = test_key(1);
    let view = View { sequence: 1, round: 1 };
    let with_zero =
        SignedRoundChange::signed(&key, view, Some(Prepared { round: 0, digest: B256::ZERO }));
    let none = SignedRoundChange::signed(&key, view, None);
    assert_eq!(with_zero.signing_payload(), none.signing_payload());
}

fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(code in 0x10u64..0x17, data in arb_bytes(400)) {
        if let Ok(m) = Message::<RawBlock>::decode(code, &data) {
            let _ = m.signer();
            let _ = m.view();
        }
    }

    #[test]
    fn commit_and_round_change_roundtrip(seq in any::<u64>(), round in any::<u64>(), seal in arb_bytes(80), sig in arb_bytes(80), pr in proptest::option::of((any::<u64>(), any::<[u8; 32]>()))) {
        let digest = B256::repeat_byte(seq as u8);
        let c = Commit { view: View { sequence: seq, round }, digest, commit_seal: seal.into(), signature: sig.clone().into() };
        let back = Message::<RawBlock>::decode(COMMIT_CODE, &alloy_rlp::encode(&c)).unwrap();
        prop_assert_eq!(back, Message::Commit(c));
        let prepared = pr.map(|(r, d)| Prepared { round: r, digest: B256::from(d) }).filter(|p| p.digest != B256::ZERO);
        let rc: RoundChange<RawBlock> = RoundChange {
            payload: SignedRoundChange { view: View { sequence: seq, round }, prepared, signature: Bytes::from(sig) },
            prepared_block: None,
            justification: vec![],
        };
        let back = Message::<RawBlock>::decode(ROUND_CHANGE_CODE, &alloy_rlp::encode(&rc)).unwrap();
        prop_assert_eq!(back, Message::RoundChange(rc));
    }

    #[test]
    fn mutated_messages_never_panic(idx in any::<usize>(), byte in any::<u8>(), which in 0usize..4) {
        let key = test_key(2);
        let view = View { sequence: 3, round: 1 };
        let b = block(3, 7);
        let prepare = Prepare::signed(&key, view, b.hash());
        let msg: Message<RawBlock> = match which {
            0 => Message::Prepare(prepare),
            1 => Message::Commit(Commit::signed(&key, view, b.hash(), [1; 65])),
            2 => Message::RoundChange(RoundChange {
                payload: SignedRoundChange::signed(&key, view, Some(Prepared { round: 0, digest: b.hash() })),
                prepared_block: Some(b.clone()),
                justification: vec![prepare],
            }),
            _ => Message::Preprepare(Preprepare::signed(&key, view, b, vec![SignedRoundChange::signed(&key, view, None)], vec![prepare])),
        };
        let mut bytes = msg.encode_payload();
        let i = idx % bytes.len();
        bytes[i] = byte;
        let _ = Message::<RawBlock>::decode(msg.code(), &bytes);
    }
}
