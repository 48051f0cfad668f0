//! LEGACY codec: hand-assembled byte layouts (every historical version), strictness, and
//! `for_recipient`.

use std::collections::BTreeMap;

use qrs_enclave::{CodecError, EncodedPayload, MessageHash, PrivacyMode, PublicKey};

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as i64).to_be_bytes());
}

fn key(b: u8) -> PublicKey {
    PublicKey([b; 32])
}

/// The five Constellation fields: sender, ct, nonce, boxes, recipient nonce.
fn v0_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    field(&mut out, &[1; 32]);
    field(&mut out, b"cipher-text");
    field(&mut out, &[2; 24]);
    count(&mut out, 2);
    field(&mut out, &[3; 48]);
    field(&mut out, &[4; 48]);
    field(&mut out, &[5; 24]);
    out
}

fn v1_bytes() -> Vec<u8> {
    let mut out = v0_bytes();
    count(&mut out, 2);
    field(&mut out, &[6; 32]);
    field(&mut out, &[7; 32]);
    out
}

fn base_payload() -> EncodedPayload {
    EncodedPayload {
        sender_key: key(1),
        cipher_text: b"cipher-text".to_vec(),
        cipher_text_nonce: vec![2; 24],
        recipient_boxes: vec![vec![3; 48], vec![4; 48]],
        recipient_nonce: vec![5; 24],
        recipient_keys: vec![],
        privacy_mode: PrivacyMode::StandardPrivate,
        affected_contract_transactions: BTreeMap::new(),
        exec_hash: vec![],
        mandatory_recipients: vec![],
        privacy_group_id: None,
    }
}

#[test]
fn decodes_constellation_layout() {
    let payload = EncodedPayload::decode_legacy(&v0_bytes()).unwrap();
    assert_eq!(payload, base_payload());
}

#[test]
fn decodes_layout_with_recipient_keys_only() {
    let payload = EncodedPayload::decode_legacy(&v1_bytes()).unwrap();
    assert_eq!(payload, EncodedPayload { recipient_keys: vec![key(6), key(7)], ..base_payload() });
}

#[test]
fn standard_payload_encodes_exactly_as_tessera() {
    // v2+ layout as Tessera writes it for a standard payload: flag field, empty ACOTH map.
    let mut expected = v1_bytes();
    field(&mut expected, &[0]);
    count(&mut expected, 0);
    let payload = EncodedPayload { recipient_keys: vec![key(6), key(7)], ..base_payload() };
    assert_eq!(payload.encode_legacy(), expected);
    assert_eq!(EncodedPayload::decode_legacy(&expected).unwrap(), payload);
}

#[test]
fn psv_payload_with_acoth_and_group_encodes_exactly_as_tessera() {
    let (h1, h2) = (MessageHash([8; 64]), MessageHash([9; 64]));
    let mut expected = v1_bytes();
    field(&mut expected, &[3]);
    count(&mut expected, 2);
    field(&mut expected, h1.as_bytes());
    field(&mut expected, &[10; 64]);
    field(&mut expected, h2.as_bytes());
    field(&mut expected, &[11; 64]);
    field(&mut expected, b"exec-hash-b64");
    field(&mut expected, b"group");
    let payload = EncodedPayload {
        recipient_keys: vec![key(6), key(7)],
        privacy_mode: PrivacyMode::PrivateStateValidation,
        affected_contract_transactions: BTreeMap::from([(h1, vec![10; 64]), (h2, vec![11; 64])]),
        exec_hash: b"exec-hash-b64".to_vec(),
        privacy_group_id: Some(b"group".to_vec()),
        ..base_payload()
    };
    assert_eq!(payload.encode_legacy(), expected);
    assert_eq!(EncodedPayload::decode_legacy(&expected).unwrap(), payload);
}

#[test]
fn mandatory_recipients_payload_encodes_exactly_as_tessera() {
    let mut expected = v1_bytes();
    field(&mut expected, &[2]);
    count(&mut expected, 0);
    count(&mut expected, 1);
    field(&mut expected, &[12; 32]);
    let payload = EncodedPayload {
        recipient_keys: vec![key(6), key(7)],
        privacy_mode: PrivacyMode::MandatoryRecipients,
        mandatory_recipients: vec![key(12)],
        ..base_payload()
    };
    assert_eq!(payload.encode_legacy(), expected);
    assert_eq!(EncodedPayload::decode_legacy(&expected).unwrap(), payload);
}

#[test]
fn v3_layout_party_protection_with_group_id() {
    // Flag 1 never carries an exec hash, so the field after the map is the group id.
    let mut bytes = v1_bytes();
    field(&mut bytes, &[1]);
    count(&mut bytes, 0);
    field(&mut bytes, &[0xAA; 32]);
    let payload = EncodedPayload::decode_legacy(&bytes).unwrap();
    assert_eq!(payload.privacy_mode, PrivacyMode::PartyProtection);
    assert_eq!(payload.privacy_group_id, Some(vec![0xAA; 32]));
    assert!(payload.exec_hash.is_empty());
    // An empty group id field means "no group", as in Tessera.
    let mut bytes = v1_bytes();
    field(&mut bytes, &[0]);
    count(&mut bytes, 0);
    field(&mut bytes, &[]);
    assert_eq!(EncodedPayload::decode_legacy(&bytes).unwrap().privacy_group_id, None);
}

#[test]
fn strict_decoding_errors() {
    let with_flag = |flag: &[u8]| {
        let mut b = v1_bytes();
        field(&mut b, flag);
        count(&mut b, 0);
        b
    };
    assert_eq!(
        EncodedPayload::decode_legacy(&with_flag(&[4])),
        Err(CodecError::UnknownPrivacyFlag(4))
    );
    assert!(matches!(
        EncodedPayload::decode_legacy(&with_flag(&[0, 0])),
        Err(CodecError::InvalidFieldLength { field: "privacyFlag", .. })
    ));
    // PSV without exec hash, MR without recipients: Tessera's builder rejects them too.
    assert!(matches!(
        EncodedPayload::decode_legacy(&with_flag(&[3])),
        Err(CodecError::Inconsistent(_))
    ));
    assert!(matches!(
        EncodedPayload::decode_legacy(&with_flag(&[2])),
        Err(CodecError::Inconsistent(_))
    ));

    let mut trailing = with_flag(&[0]);
    field(&mut trailing, b"group");
    trailing.push(0);
    assert_eq!(EncodedPayload::decode_legacy(&trailing), Err(CodecError::TrailingBytes(1)));

    let mut short_sender = Vec::new();
    field(&mut short_sender, &[1; 31]);
    assert!(matches!(
        EncodedPayload::decode_legacy(&short_sender),
        Err(CodecError::InvalidFieldLength { field: "senderKey", expected: 32, actual: 31 })
    ));

    let mut negative = Vec::new();
    negative.extend_from_slice(&(-1i64).to_be_bytes());
    assert!(matches!(
        EncodedPayload::decode_legacy(&negative),
        Err(CodecError::NegativeLength { .. })
    ));

    let mut huge = Vec::new();
    field(&mut huge, &[1; 32]);
    huge.extend_from_slice(&i64::MAX.to_be_bytes());
    assert!(matches!(
        EncodedPayload::decode_legacy(&huge),
        Err(CodecError::LengthExceedsInput { .. })
    ));

    let mut huge_count = v0_bytes();
    huge_count.extend_from_slice(&(1i64 << 60).to_be_bytes());
    assert!(matches!(
        EncodedPayload::decode_legacy(&huge_count),
        Err(CodecError::LengthExceedsInput { .. })
    ));

    let mut dup = v1_bytes();
    field(&mut dup, &[0]);
    count(&mut dup, 2);
    for _ in 0..2 {
        field(&mut dup, &[8; 64]);
        field(&mut dup, &[10; 64]);
    }
    assert!(matches!(
        EncodedPayload::decode_legacy(&dup),
        Err(CodecError::DuplicateAffectedTransaction(_))
    ));

    assert!(matches!(EncodedPayload::decode_legacy(&[]), Err(CodecError::TruncatedLength { .. })));
}

#[test]
fn for_recipient_reduces_like_tessera() {
    let payload = EncodedPayload { recipient_keys: vec![key(6), key(7)], ..base_payload() };
    let for7 = payload.for_recipient(&key(7)).unwrap();
    assert_eq!(for7.recipient_keys, vec![key(7)]);
    assert_eq!(for7.recipient_boxes, vec![vec![4; 48]]);
    assert_eq!(for7.cipher_text, payload.cipher_text);
    assert!(payload.for_recipient(&key(9)).is_none());

    let psv = EncodedPayload {
        privacy_mode: PrivacyMode::PrivateStateValidation,
        exec_hash: b"e".to_vec(),
        ..payload.clone()
    };
    let for7 = psv.for_recipient(&key(7)).unwrap();
    assert_eq!(for7.recipient_keys, vec![key(7), key(6)]);
    assert_eq!(for7.recipient_boxes, vec![vec![4; 48]]);
    assert_eq!(for7.exec_hash, b"e");
}

#[test]
fn keys_and_hashes_text_forms() {
    let k: PublicKey = "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=".parse().unwrap();
    assert_eq!(k.to_string(), "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=");
    assert_eq!(
        serde_json::to_string(&k).unwrap(),
        "\"BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=\""
    );
    assert_eq!(
        serde_json::from_str::<PublicKey>("\"BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=\"")
            .unwrap(),
        k
    );
    assert!("BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3B=".parse::<PublicKey>().is_err());
    assert!("AAAA".parse::<PublicKey>().is_err());
    assert!("not base64!".parse::<PublicKey>().is_err());

    // SHA3-512 of the empty string (FIPS 202 test vector).
    let empty = MessageHash::of_cipher_text(b"");
    assert_eq!(
        empty.to_string(),
        "pp9zzKI6msXItWfcGFp1bpfJghZP4lhZ4NHcwUdcgKYVshI68fX5TBHj6UAsOsVY9QAZnZW20+MBdYWGKB3NJg=="
    );
    assert_eq!(empty.to_string().parse::<MessageHash>().unwrap(), empty);
    let json = serde_json::to_string(&empty).unwrap();
    assert_eq!(serde_json::from_str::<MessageHash>(&json).unwrap(), empty);
}

#[test]
fn privacy_flags_are_strict() {
    for (flag, mode) in [
        (0, PrivacyMode::StandardPrivate),
        (1, PrivacyMode::PartyProtection),
        (2, PrivacyMode::MandatoryRecipients),
        (3, PrivacyMode::PrivateStateValidation),
    ] {
        assert_eq!(PrivacyMode::from_flag(flag).unwrap(), mode);
        assert_eq!(mode.flag(), flag);
        assert_eq!(PrivacyMode::from_name(mode.name()), Some(mode));
    }
    for bad in [4, 5, 255, u32::MAX] {
        assert!(
            matches!(PrivacyMode::from_flag(bad), Err(qrs_enclave::EnclaveError::UnknownPrivacyFlag(f)) if f == bad)
        );
    }
    assert!(serde_json::from_str::<PrivacyMode>("7").is_err());
    assert_eq!(
        serde_json::from_str::<PrivacyMode>("3").unwrap(),
        PrivacyMode::PrivateStateValidation
    );
}
