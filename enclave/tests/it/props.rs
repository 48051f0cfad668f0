//! Property tests of the LEGACY codec: roundtrip, arbitrary bytes never panic, corrupted length
//! prefixes give errors.

use proptest::prelude::*;
use qrs_enclave::{CodecError, EncodedPayload, MessageHash, PrivacyMode, PublicKey};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn key() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_map(PublicKey)
}

fn hash() -> impl Strategy<Value = MessageHash> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut h = [0u8; 64];
        h[..32].copy_from_slice(&a);
        h[32..].copy_from_slice(&b);
        MessageHash(h)
    })
}

/// Valid payloads: any mode with its invariants (PSV ⇔ exec hash, MR ⇔ mandatory recipients).
fn payload() -> impl Strategy<Value = EncodedPayload> {
    (
        key(),
        bytes(300),
        bytes(30),
        proptest::collection::vec(bytes(60), 0..5),
        bytes(30),
        proptest::collection::vec(key(), 0..5),
        0u32..4,
        proptest::collection::btree_map(hash(), bytes(70), 0..3),
        bytes(50).prop_map(|mut v| {
            v.push(1);
            v
        }),
        proptest::collection::vec(key(), 1..3),
        proptest::option::of(bytes(40).prop_map(|mut v| {
            v.push(7);
            v
        })),
    )
        .prop_map(
            |(sender, ct, nonce, boxes, rnonce, keys, flag, acoth, exec, mandatory, group)| {
                let mode = PrivacyMode::from_flag(flag).unwrap();
                EncodedPayload {
                    sender_key: sender,
                    cipher_text: ct,
                    cipher_text_nonce: nonce,
                    recipient_boxes: boxes,
                    recipient_nonce: rnonce,
                    recipient_keys: keys,
                    privacy_mode: mode,
                    affected_contract_transactions: acoth,
                    exec_hash: if mode == PrivacyMode::PrivateStateValidation {
                        exec
                    } else {
                        vec![]
                    },
                    mandatory_recipients: if mode == PrivacyMode::MandatoryRecipients {
                        mandatory
                    } else {
                        vec![]
                    },
                    privacy_group_id: group,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn roundtrip(p in payload()) {
        let encoded = p.encode_legacy();
        let decoded = EncodedPayload::decode_legacy(&encoded).unwrap();
        prop_assert_eq!(&decoded, &p);
        prop_assert_eq!(decoded.encode_legacy(), encoded);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in bytes(2048)) {
        let _ = EncodedPayload::decode_legacy(&data);
    }

    #[test]
    fn mutated_payloads_never_panic(p in payload(), index in any::<prop::sample::Index>(), value in any::<u8>()) {
        let mut encoded = p.encode_legacy();
        let i = index.index(encoded.len());
        encoded[i] = value;
        if let Ok(decoded) = EncodedPayload::decode_legacy(&encoded) {
            // Whatever decodes re-encodes to something that decodes to the same payload.
            prop_assert_eq!(EncodedPayload::decode_legacy(&decoded.encode_legacy()).unwrap(), decoded);
        }
    }

    #[test]
    fn truncation_is_an_error(p in payload(), cut in any::<prop::sample::Index>()) {
        let encoded = p.encode_legacy();
        let cut = cut.index(encoded.len());
        // LEGACY has valid strict prefixes (older layouts, an omitted group id); a prefix either
        // fails or decodes to a payload that is exactly an older layout or re-encodes to the
        // prefix itself: nothing is ever misread.
        if let Ok(decoded) = EncodedPayload::decode_legacy(&encoded[..cut]) {
            let older_layout = decoded.privacy_mode == PrivacyMode::StandardPrivate
                && decoded.affected_contract_transactions.is_empty()
                && decoded.privacy_group_id.is_none();
            prop_assert!(older_layout || decoded.encode_legacy() == encoded[..cut]);
            prop_assert_eq!(&decoded.cipher_text, &p.cipher_text);
        }
    }

    #[test]
    fn oversized_length_prefix_is_an_error(p in payload(), extra in 1i64..=i64::MAX) {
        // Inflate the cipher text length (second field) beyond the input.
        let mut encoded = p.encode_legacy();
        let start = 8 + 32;
        let real = i64::from_be_bytes(encoded[start..start + 8].try_into().unwrap());
        let claimed = real.saturating_add(extra).max(encoded.len() as i64);
        encoded[start..start + 8].copy_from_slice(&claimed.to_be_bytes());
        let err = EncodedPayload::decode_legacy(&encoded).unwrap_err();
        let is_length_error = matches!(err, CodecError::LengthExceedsInput { field: "cipherText", .. });
        prop_assert!(is_length_error, "{:?}", err);
    }

    #[test]
    fn negative_length_prefix_is_an_error(p in payload(), negative in i64::MIN..0) {
        let mut encoded = p.encode_legacy();
        encoded[40..48].copy_from_slice(&negative.to_be_bytes());
        let is_negative = matches!(
            EncodedPayload::decode_legacy(&encoded),
            Err(CodecError::NegativeLength { field: "cipherText", .. })
        );
        prop_assert!(is_negative);
    }
}

#[test]
fn huge_counts_do_not_allocate() {
    // A box count of 2^62 in a tiny input: rejected before any allocation.
    let mut data = Vec::new();
    for f in [&[1u8; 32][..], b"ct", &[0; 24]] {
        data.extend_from_slice(&(f.len() as i64).to_be_bytes());
        data.extend_from_slice(f);
    }
    data.extend_from_slice(&(1i64 << 62).to_be_bytes());
    assert!(matches!(
        EncodedPayload::decode_legacy(&data),
        Err(CodecError::LengthExceedsInput { field: "recipientBoxes", .. })
    ));
}
