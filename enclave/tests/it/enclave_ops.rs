//! Enclave scenarios run against every implementation: the in-process enclave (both suites)
//! and `RemoteEnclave` talking to a real `qenclave` (see `qenclave.rs`).
//!
//! The enclave under test holds members 1 (default) and 2 and forwards to member 3; member 3
//! lives in a separate in-process enclave and plays the remote recipient.

use qrs_enclave::{
    AffectedTransaction, CryptoSuite, Enclave, EnclaveConfig, EnclaveError, EnclaveStatus,
    EncodedPayload, LocalEnclave, MessageHash, PrivacyMetadata, PrivacyMode,
};

use crate::support::{local_enclave, member_pair, member_public};

pub struct Subject<'a> {
    pub enclave: &'a dyn Enclave,
    pub suite: CryptoSuite,
    pub remote: bool,
}

fn message(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// The enclave of member 3 (an outside recipient).
fn outsider(suite: CryptoSuite) -> LocalEnclave {
    local_enclave(&[3], suite)
}

/// Invalid metadata: typed locally, a 400 over HTTP.
fn is_invalid_metadata(s: &Subject<'_>, err: &EnclaveError) -> bool {
    if s.remote {
        matches!(err, EnclaveError::Remote { status: 400, .. })
    } else {
        matches!(err, EnclaveError::InvalidMetadata(_))
    }
}

pub async fn run_all(s: &Subject<'_>) {
    keys_and_status(s).await;
    roundtrip_to_local_and_outside_recipients(s).await;
    errors(s).await;
    raw_transactions(s).await;
    new_recipient_box(s).await;
    affected_contract_transactions(s).await;
    privacy_modes(s).await;
}

async fn keys_and_status(s: &Subject<'_>) {
    let e = s.enclave;
    assert_eq!(e.default_public_key().await.unwrap(), member_public(1));
    assert_eq!(e.public_keys().await.unwrap(), vec![member_public(1), member_public(2)]);
    assert_eq!(e.forwarding_keys().await.unwrap(), vec![member_public(3)]);
    assert_eq!(e.status().await.unwrap(), EnclaveStatus::Started);
}

async fn roundtrip_to_local_and_outside_recipients(s: &Subject<'_>) {
    let (m1, m2, m3) = (member_public(1), member_public(2), member_public(3));
    for len in [0usize, 1, 1024, 100_000] {
        let msg = message(len);
        let payload = s
            .enclave
            .encrypt_payload(&msg, m1, &[m2, m3, m2], &PrivacyMetadata::standard())
            .await
            .unwrap();
        // Duplicates removed, order kept, sender appended.
        assert_eq!(payload.recipient_keys, vec![m2, m3, m1]);
        assert_eq!(payload.recipient_boxes.len(), 3);
        assert!(payload.recipient_boxes.iter().all(|b| b.len() == 48));
        assert_eq!(payload.cipher_text.len(), len + 16);
        assert_eq!(payload.cipher_text_nonce.len(), 24);
        assert_eq!(payload.recipient_nonce.len(), 24);
        assert_eq!(payload.sender_key, m1);
        assert_eq!(payload.hash(), MessageHash::of_cipher_text(&payload.cipher_text));

        let decoded = EncodedPayload::decode_legacy(&payload.encode_legacy()).unwrap();
        assert_eq!(decoded, payload);
        assert_eq!(s.enclave.unencrypt_transaction(&decoded, m1).await.unwrap(), msg);
        assert_eq!(s.enclave.unencrypt_transaction(&decoded, m2).await.unwrap(), msg);

        // What member 3 receives decrypts in member 3's own enclave.
        let pushed = payload.for_recipient(&m3).unwrap();
        assert_eq!(pushed.recipient_keys, vec![m3]);
        let pushed = EncodedPayload::decode_legacy(&pushed.encode_legacy()).unwrap();
        assert_eq!(outsider(s.suite).unencrypt_transaction(&pushed, m3).await.unwrap(), msg);
        // The recipient-only form also opens for member 2 here.
        let for_m2 = payload.for_recipient(&m2).unwrap();
        assert_eq!(s.enclave.unencrypt_transaction(&for_m2, m2).await.unwrap(), msg);
        // Old-Tessera rule: a sender not listed among the keys opens box 0 with keys[0].
        assert_eq!(s.enclave.unencrypt_transaction(&for_m2, m1).await.unwrap(), msg);
    }

    // Member 3's enclave encrypts to member 2, which this enclave decrypts.
    let msg = message(1024);
    let from_outside = outsider(s.suite)
        .encrypt_payload(&msg, m3, &[m2], &PrivacyMetadata::standard())
        .await
        .unwrap();
    let pushed = from_outside.for_recipient(&m2).unwrap();
    assert_eq!(s.enclave.unencrypt_transaction(&pushed, m2).await.unwrap(), msg);
}

async fn errors(s: &Subject<'_>) {
    let (m1, m2, m3) = (member_public(1), member_public(2), member_public(3));
    let err =
        s.enclave.encrypt_payload(b"x", m3, &[m1], &PrivacyMetadata::standard()).await.unwrap_err();
    assert!(matches!(err, EnclaveError::UnknownKey(k) if k == m3), "{err}");

    let payload = s
        .enclave
        .encrypt_payload(b"secret", m1, &[m3], &PrivacyMetadata::standard())
        .await
        .unwrap();
    let err = s.enclave.unencrypt_transaction(&payload, m3).await.unwrap_err();
    assert!(matches!(err, EnclaveError::UnknownKey(k) if k == m3), "{err}");
    let err = s.enclave.unencrypt_transaction(&payload, m2).await.unwrap_err();
    assert!(matches!(err, EnclaveError::NotARecipient(k) if k == m2), "{err}");

    let mut tampered = payload.clone();
    if let Some(byte) = tampered.cipher_text.last_mut() {
        *byte ^= 1;
    }
    let err = s.enclave.unencrypt_transaction(&tampered, m1).await.unwrap_err();
    assert!(matches!(err, EnclaveError::DecryptionFailed), "{err}");

    let mut wrong_box = payload.clone();
    wrong_box.recipient_boxes.swap(0, 1);
    let err = s.enclave.unencrypt_transaction(&wrong_box, m1).await.unwrap_err();
    assert!(matches!(err, EnclaveError::DecryptionFailed), "{err}");

    // A low-order public key would make the box readable by anyone: refused.
    let weak = qrs_enclave::PublicKey([0u8; 32]);
    let err = s
        .enclave
        .encrypt_payload(b"x", m1, &[weak], &PrivacyMetadata::standard())
        .await
        .unwrap_err();
    assert!(matches!(err, EnclaveError::WeakKey(k) if k == weak), "{err}");
}

async fn raw_transactions(s: &Subject<'_>) {
    let (m1, m2, m3) = (member_public(1), member_public(2), member_public(3));
    let msg = message(1024);
    let raw = s.enclave.encrypt_raw_payload(&msg, m1).await.unwrap();
    assert_eq!(raw.from, m1);
    assert_eq!(raw.nonce.len(), 24);
    assert_eq!(raw.encrypted_key.len(), 48);
    assert_eq!(s.enclave.unencrypt_raw_payload(&raw).await.unwrap(), msg);

    let payload = s
        .enclave
        .encrypt_payload_from_raw(&raw, &[m2, m3], &PrivacyMetadata::standard())
        .await
        .unwrap();
    assert_eq!(payload.hash(), raw.hash(), "re-wrapping keeps the cipher text and so the hash");
    assert_eq!(payload.cipher_text_nonce, raw.nonce);
    assert_ne!(payload.recipient_nonce, raw.nonce, "fresh recipient nonce");
    assert_eq!(payload.recipient_keys, vec![m2, m3, m1]);
    assert_eq!(s.enclave.unencrypt_transaction(&payload, m2).await.unwrap(), msg);
    let pushed = payload.for_recipient(&m3).unwrap();
    assert_eq!(outsider(s.suite).unencrypt_transaction(&pushed, m3).await.unwrap(), msg);

    let mut tampered = raw.clone();
    tampered.encrypted_key[0] ^= 1;
    assert!(s.enclave.unencrypt_raw_payload(&tampered).await.is_err());
}

async fn new_recipient_box(s: &Subject<'_>) {
    let (m1, m2, m3) = (member_public(1), member_public(2), member_public(3));
    let msg = message(333);
    let payload =
        s.enclave.encrypt_payload(&msg, m1, &[m2], &PrivacyMetadata::standard()).await.unwrap();
    let new_box = s.enclave.create_new_recipient_box(&payload, m3).await.unwrap();
    assert_eq!(new_box.len(), 48);
    let for_m3 = EncodedPayload {
        recipient_keys: vec![m3],
        recipient_boxes: vec![new_box],
        ..payload.clone()
    };
    assert_eq!(outsider(s.suite).unencrypt_transaction(&for_m3, m3).await.unwrap(), msg);

    // Only the sender's enclave can add recipients.
    let from_outside = outsider(s.suite)
        .encrypt_payload(&msg, m3, &[m2], &PrivacyMetadata::standard())
        .await
        .unwrap();
    let err = s.enclave.create_new_recipient_box(&from_outside, m1).await.unwrap_err();
    assert!(matches!(err, EnclaveError::UnknownKey(k) if k == m3), "{err}");
}

async fn affected_contract_transactions(s: &Subject<'_>) {
    let (m1, m2) = (member_public(1), member_public(2));
    let pp = |affected: Vec<AffectedTransaction>| PrivacyMetadata {
        privacy_mode: PrivacyMode::PartyProtection,
        affected_transactions: affected,
        ..PrivacyMetadata::default()
    };
    let a = s.enclave.encrypt_payload(b"contract A", m1, &[m2], &pp(vec![])).await.unwrap();
    let a_tx = AffectedTransaction { hash: a.hash(), payload: a.clone() };
    let b =
        s.enclave.encrypt_payload(b"call on A", m1, &[m2], &pp(vec![a_tx.clone()])).await.unwrap();
    assert_eq!(b.privacy_mode, PrivacyMode::PartyProtection);
    let security_hash =
        b.affected_contract_transactions.get(&a.hash()).expect("security hash of A");
    assert_eq!(security_hash.len(), 64);
    let b = EncodedPayload::decode_legacy(&b.encode_legacy()).unwrap();

    // Sender side: valid; missing or tampered entries are reported.
    assert_eq!(
        s.enclave.find_invalid_security_hashes(&b, std::slice::from_ref(&a_tx)).await.unwrap(),
        vec![]
    );
    assert_eq!(s.enclave.find_invalid_security_hashes(&b, &[]).await.unwrap(), vec![a.hash()]);
    let mut tampered = b.clone();
    if let Some(v) = tampered.affected_contract_transactions.get_mut(&a.hash()) {
        v[0] ^= 1;
    }
    assert_eq!(
        s.enclave
            .find_invalid_security_hashes(&tampered, std::slice::from_ref(&a_tx))
            .await
            .unwrap(),
        vec![a.hash()]
    );

    // Recipient side (member 2 recovers A's master key as a recipient).
    let b_for_m2 = b.for_recipient(&m2).unwrap();
    let a_for_m2 = AffectedTransaction { hash: a.hash(), payload: a.for_recipient(&m2).unwrap() };
    assert_eq!(
        s.enclave.find_invalid_security_hashes(&b_for_m2, &[a_for_m2]).await.unwrap(),
        vec![]
    );

    // The security hash is bound to A's master key: the same cipher text relation with another
    // transaction's payload does not validate.
    let other = s.enclave.encrypt_payload(b"contract A", m1, &[m2], &pp(vec![])).await.unwrap();
    let forged = AffectedTransaction { hash: a.hash(), payload: other };
    assert_eq!(
        s.enclave.find_invalid_security_hashes(&b, &[forged]).await.unwrap(),
        vec![a.hash()]
    );
}

async fn privacy_modes(s: &Subject<'_>) {
    let (m1, m2, m3) = (member_public(1), member_public(2), member_public(3));
    let psv = PrivacyMetadata {
        privacy_mode: PrivacyMode::PrivateStateValidation,
        exec_hash: b"3q2+7w==".to_vec(),
        ..PrivacyMetadata::default()
    };
    let payload = s.enclave.encrypt_payload(b"psv", m1, &[m2, m3], &psv).await.unwrap();
    let decoded = EncodedPayload::decode_legacy(&payload.encode_legacy()).unwrap();
    assert_eq!(decoded.privacy_mode, PrivacyMode::PrivateStateValidation);
    assert_eq!(decoded.exec_hash, b"3q2+7w==");
    let pushed = decoded.for_recipient(&m3).unwrap();
    assert_eq!(pushed.recipient_keys, vec![m3, m2, m1], "PSV keeps every key, recipient first");
    assert_eq!(pushed.recipient_boxes.len(), 1);
    assert_eq!(outsider(s.suite).unencrypt_transaction(&pushed, m3).await.unwrap(), b"psv");

    let mr = PrivacyMetadata {
        privacy_mode: PrivacyMode::MandatoryRecipients,
        mandatory_recipients: vec![m2],
        privacy_group_id: Some(b"group-1".to_vec()),
        ..PrivacyMetadata::default()
    };
    let payload = s.enclave.encrypt_payload(b"mr", m1, &[m2], &mr).await.unwrap();
    let decoded = EncodedPayload::decode_legacy(&payload.encode_legacy()).unwrap();
    assert_eq!(decoded.mandatory_recipients, vec![m2]);
    assert_eq!(decoded.privacy_group_id.as_deref(), Some(&b"group-1"[..]));
    assert_eq!(s.enclave.unencrypt_transaction(&decoded, m2).await.unwrap(), b"mr");

    for bad in [
        PrivacyMetadata {
            privacy_mode: PrivacyMode::PrivateStateValidation,
            ..PrivacyMetadata::default()
        },
        PrivacyMetadata {
            privacy_mode: PrivacyMode::MandatoryRecipients,
            ..PrivacyMetadata::default()
        },
        PrivacyMetadata { exec_hash: b"x".to_vec(), ..PrivacyMetadata::default() },
    ] {
        let err = s.enclave.encrypt_payload(b"x", m1, &[m2], &bad).await.unwrap_err();
        assert!(is_invalid_metadata(s, &err), "{err}");
    }
}

#[tokio::test]
async fn local_enclave_nacl_scenarios() {
    let enclave = LocalEnclave::new(EnclaveConfig {
        keys: vec![member_pair(1), member_pair(2)],
        forwarding_keys: vec![member_public(3)],
        suite: CryptoSuite::Nacl,
    })
    .unwrap();
    run_all(&Subject { enclave: &enclave, suite: CryptoSuite::Nacl, remote: false }).await;
}

#[tokio::test]
async fn local_enclave_chacha_scenarios() {
    let suite = CryptoSuite::X25519ChaCha20Poly1305;
    let enclave = LocalEnclave::new(EnclaveConfig {
        keys: vec![member_pair(1), member_pair(2)],
        forwarding_keys: vec![member_public(3)],
        suite,
    })
    .unwrap();
    run_all(&Subject { enclave: &enclave, suite, remote: false }).await;
}

#[tokio::test]
async fn suites_differ_but_decryption_accepts_both() {
    let (m1, m2) = (member_public(1), member_public(2));
    let nacl = local_enclave(&[1, 2], CryptoSuite::Nacl);
    let chacha = local_enclave(&[1, 2], CryptoSuite::X25519ChaCha20Poly1305);
    let from_chacha =
        chacha.encrypt_payload(b"hi", m1, &[m2], &PrivacyMetadata::standard()).await.unwrap();
    let from_nacl =
        nacl.encrypt_payload(b"hi", m1, &[m2], &PrivacyMetadata::standard()).await.unwrap();
    // Each suite's boxes do not open with the other's shared key, but each enclave tries both.
    assert_eq!(nacl.unencrypt_transaction(&from_chacha, m2).await.unwrap(), b"hi");
    assert_eq!(chacha.unencrypt_transaction(&from_nacl, m2).await.unwrap(), b"hi");
}

#[test]
fn enclave_without_keys_is_refused() {
    let err = LocalEnclave::new(EnclaveConfig::default()).unwrap_err();
    assert!(matches!(err, EnclaveError::NoKeys));
}

#[tokio::test]
async fn local_enclave_from_quickstart_key_configuration() {
    let m = |n: u8| crate::support::member_dir(n);
    let keys: qrs_enclave::KeyConfiguration = serde_json::from_value(serde_json::json!({
        "passwords": [],
        "keyData": [
            {"privateKeyPath": m(2).join("tm.key"), "publicKeyPath": m(2).join("tm.pub")},
            {"privateKeyPath": m(2).join("tma.key"), "publicKeyPath": m(2).join("tma.pub")}
        ]
    }))
    .unwrap();
    let enclave =
        LocalEnclave::from_key_configuration(&keys, vec![member_public(1)], CryptoSuite::Nacl)
            .unwrap();
    let own = enclave.public_keys().await.unwrap();
    assert_eq!(own.len(), 2);
    assert_eq!(enclave.default_public_key().await.unwrap(), member_public(2));
    // Multi-tenancy: one node, two keys; each opens its own box of the same payload.
    let payload = enclave
        .encrypt_payload(b"tenant", own[0], &[own[1]], &PrivacyMetadata::standard())
        .await
        .unwrap();
    for key in &own {
        assert_eq!(enclave.unencrypt_transaction(&payload, *key).await.unwrap(), b"tenant");
    }
}
