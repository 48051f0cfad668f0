//! Cross-checks against independent implementations from PyPI: PyNaCl (libsodium) and
//! argon2-cffi (the Argon2 reference C code), driven through `tests/py/nacl_cross.py`.
//! Installs `tests/py/requirements.txt` with pip if the modules are missing; fails loudly if
//! that is impossible.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qrs_enclave::keys::file::PrivateKeyFile;
use qrs_enclave::{CryptoSuite, Enclave, EncodedPayload, PrivacyMetadata, SecretString};
use serde_json::{Value, json};

use crate::support::{local_enclave, member_pair, member_private_b64, member_public};

const PY_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py");

fn ensure_python_modules() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let has = |module: &str| {
            Command::new("python3")
                .args(["-c", &format!("import {module}")])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if has("nacl") && has("argon2") {
            return;
        }
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "-r"])
            .arg(format!("{PY_DIR}/requirements.txt"))
            .status()
            .expect("python3 must be installed for the PyNaCl cross-checks");
        assert!(status.success(), "pip install -r tests/py/requirements.txt failed ({status})");
        assert!(
            has("nacl") && has("argon2"),
            "PyNaCl/argon2-cffi still not importable after pip install"
        );
    });
}

fn python(request: Value) -> Value {
    ensure_python_modules();
    let mut child = Command::new("python3")
        .arg(format!("{PY_DIR}/nacl_cross.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must run");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn rust_payloads_open_in_pynacl() {
    let enclave = local_enclave(&[1], CryptoSuite::Nacl);
    let (m1, m2, m3) = (member_public(1), member_public(2), member_public(3));
    for len in [0usize, 1, 1024, 65_537] {
        let msg: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let payload = enclave
            .encrypt_payload(&msg, m1, &[m2, m3], &PrivacyMetadata::standard())
            .await
            .unwrap();
        // The full sender payload, opened by member 2, and the pushed form, opened by member 3.
        for (bytes, member) in [
            (payload.encode_legacy(), 2u8),
            (payload.for_recipient(&m3).unwrap().encode_legacy(), 3u8),
            (payload.encode_legacy(), 1u8),
        ] {
            let answer = python(json!({
                "command": "open_payload",
                "payload": STANDARD.encode(&bytes),
                "private_key": member_private_b64(member),
            }));
            assert_eq!(b64(&answer["plaintext"]), msg, "member {member}, {len} bytes");
            assert_eq!(answer["flag"], 0);
        }
    }
}

#[tokio::test]
async fn pynacl_payloads_decode_and_decrypt_in_rust() {
    let enclave = local_enclave(&[1, 2], CryptoSuite::Nacl);
    let (m1, m2, m3) = (member_public(1), member_public(2), member_public(3));
    let msg = b"made by PyNaCl, read by qrs-enclave".to_vec();
    // Member 3 sends to members 2 and 1 (Tessera layout v2) and, separately, in the older layouts.
    for layout in ["v2", "v1", "constellation"] {
        let answer = python(json!({
            "command": "make_payload",
            "layout": layout,
            "sender_private_key": member_private_b64(3),
            "recipients": [m2.to_base64(), m1.to_base64()],
            "plaintext": STANDARD.encode(&msg),
        }));
        let payload = EncodedPayload::decode_legacy(&b64(&answer["payload"])).unwrap();
        assert_eq!(payload.sender_key, m3);
        match layout {
            "constellation" => {
                assert!(payload.recipient_keys.is_empty());
                // Constellation-era payloads hold one box per receiving node: box 0 for member 2.
                assert_eq!(enclave.unencrypt_transaction(&payload, m2).await.unwrap(), msg);
            }
            _ => {
                assert_eq!(payload.recipient_keys, vec![m2, m1]);
                assert_eq!(enclave.unencrypt_transaction(&payload, m2).await.unwrap(), msg);
                assert_eq!(enclave.unencrypt_transaction(&payload, m1).await.unwrap(), msg);
                let pushed = payload.for_recipient(&m1).unwrap();
                assert_eq!(enclave.unencrypt_transaction(&pushed, m1).await.unwrap(), msg);
            }
        }
    }
}

#[test]
fn crypto_box_matches_libsodium_both_ways() {
    use crypto_secretbox::aead::Aead as _;
    let (m1, m2) = (member_pair(1), member_pair(2));
    let nonce = [42u8; 24];
    let message = [7u8; 32];
    // libsodium seals, we open (via the enclave's shared-key code path).
    let answer = python(json!({
        "command": "raw_box",
        "sender_private_key": member_private_b64(1),
        "recipient": m2.public.to_base64(),
        "nonce": STANDARD.encode(nonce),
        "message": STANDARD.encode(message),
    }));
    let sealed = b64(&answer["box"]);
    let shared =
        qrs_enclave::crypto::SharedKey::derive(CryptoSuite::Nacl, &m2, &m1.public).unwrap();
    assert_eq!(&*shared.open(&nonce, &sealed).unwrap(), &message);
    // We seal, libsodium opens; and the bytes are identical (deterministic given the nonce).
    let ours = qrs_enclave::crypto::SharedKey::derive(CryptoSuite::Nacl, &m1, &m2.public)
        .unwrap()
        .seal(&nonce, &message)
        .unwrap();
    assert_eq!(ours, sealed);
    let opened = python(json!({
        "command": "open_box",
        "private_key": member_private_b64(2),
        "peer": m1.public.to_base64(),
        "box": STANDARD.encode(&ours),
        "nonce": STANDARD.encode(nonce),
    }));
    assert_eq!(b64(&opened["message"]), message);
    // libsodium's precomputed beforenm key, used as a secretbox key, gives the same box.
    let key: [u8; 32] = b64(&answer["shared_key"]).try_into().unwrap();
    let via_secretbox = {
        use crypto_secretbox::KeyInit as _;
        crypto_secretbox::XSalsa20Poly1305::new(&key.into())
            .encrypt(&nonce.into(), &message[..])
            .unwrap()
    };
    assert_eq!(via_secretbox, sealed);
}

#[test]
fn public_keys_match_libsodium() {
    for n in 1..=3 {
        let answer = python(json!({"command": "public_key", "private_key": member_private_b64(n)}));
        assert_eq!(answer["public_key"], member_public(n).to_base64());
    }
}

#[test]
fn locked_keys_from_argon2_cffi_unlock_for_every_variant_and_version() {
    let pair = member_pair(1);
    for variant in ["i", "d", "id"] {
        for version in [None, Some("1.0"), Some("1.3")] {
            let mut request = json!({
                "command": "lock_key",
                "variant": variant,
                "memory": 2048,
                "iterations": 2,
                "parallelism": 2,
                "password": "correct horse",
                "private_key": member_private_b64(1),
            });
            if let Some(version) = version {
                request["version"] = version.into();
            }
            let answer = python(request);
            let file =
                PrivateKeyFile::parse(answer["key_file"].as_str().unwrap(), "argon2-cffi").unwrap();
            let key =
                file.unlock(Some(&SecretString::from("correct horse")), "argon2-cffi").unwrap();
            assert_eq!(key.public_key(), pair.public, "variant {variant} version {version:?}");
            assert!(file.unlock(Some(&SecretString::from("wrong")), "argon2-cffi").is_err());
        }
    }
}
