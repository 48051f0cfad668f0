//! v3 key file format: geth's layout, both KDFs, the Web3 Secret Storage test vectors.

use proptest::prelude::*;
use qrs_keystore::{KeyFile, KeystoreError, PrivateKey, ScryptCost};

const SPEC_KEY: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";

#[test]
fn web3_secret_storage_pbkdf2_vector() {
    let json = r#"{"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},
      "ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2",
      "kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},
      "mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},
      "id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;
    let key = KeyFile::from_json(json).unwrap().decrypt("testpassword").unwrap();
    assert_eq!(hex::encode(key.expose_secret().as_slice()), SPEC_KEY);
}

#[test]
fn web3_secret_storage_scrypt_vector() {
    let json = r#"{"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"83dbcc02d8ccb40e466191a123791e0e"},
      "ciphertext":"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c","kdf":"scrypt",
      "kdfparams":{"dklen":32,"n":262144,"p":8,"r":1,"salt":"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},
      "mac":"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"},
      "id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;
    let key = KeyFile::from_json(json).unwrap().decrypt("testpassword").unwrap();
    assert_eq!(hex::encode(key.expose_secret().as_slice()), SPEC_KEY);
}

#[test]
fn written_like_geth() {
    let key = PrivateKey::random();
    let file = KeyFile::encrypt_scrypt(&key, "pw", ScryptCost::Light).unwrap();
    let json = file.to_json().unwrap();
    // geth's field order, Go's sorted kdfparams, lower-case hex without 0x.
    let order = [
        "\"address\"",
        "\"crypto\"",
        "\"cipher\":\"aes-128-ctr\"",
        "\"ciphertext\"",
        "\"cipherparams\"",
        "\"iv\"",
        "\"kdf\":\"scrypt\"",
        "\"kdfparams\"",
        "\"dklen\":32",
        "\"n\":4096",
        "\"p\":6",
        "\"r\":8",
        "\"salt\"",
        "\"mac\"",
        "\"id\"",
        "\"version\":3",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|k| json.find(k).unwrap_or_else(|| panic!("{k} missing in {json}")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
    assert_eq!(file.address, hex::encode(key.address()));
    assert!(!json.contains("0x"));
    assert_eq!(uuid::Uuid::parse_str(&file.id).unwrap().get_version_num(), 4);
    let standard =
        KeyFile::encrypt_scrypt(&key, "pw", ScryptCost::Standard).unwrap().to_json().unwrap();
    assert!(standard.contains("\"n\":262144,\"p\":1,\"r\":8"), "{standard}");
}

#[test]
fn wrong_password_gives_geths_message() {
    let key = PrivateKey::random();
    let file = KeyFile::encrypt_pbkdf2(&key, "right", 2).unwrap();
    let err = file.decrypt("wrong").unwrap_err();
    assert!(matches!(err, KeystoreError::Decrypt));
    assert_eq!(err.to_string(), "could not decrypt key with given password");
}

#[test]
fn unsupported_and_hostile_parameters_are_refused() {
    let key = PrivateKey::random();
    let base = KeyFile::encrypt_pbkdf2(&key, "pw", 2).unwrap();

    let mut f = base.clone();
    f.version = serde_json::json!(4);
    assert_eq!(f.decrypt("pw").unwrap_err().to_string(), "version not supported: 4");
    let mut f = base.clone();
    f.crypto.cipher = "aes-128-cbc".into();
    assert_eq!(f.decrypt("pw").unwrap_err().to_string(), "cipher not supported: aes-128-cbc");
    let mut f = base.clone();
    f.crypto.kdf = "argon2".into();
    assert_eq!(f.decrypt("pw").unwrap_err().to_string(), "unsupported KDF: argon2");
    let mut f = base.clone();
    f.crypto.kdfparams["prf"] = "hmac-sha512".into();
    assert_eq!(f.decrypt("pw").unwrap_err().to_string(), "unsupported PBKDF2 PRF: hmac-sha512");
    let mut f = base.clone();
    f.crypto.kdfparams["c"] = 4_000_000_000u32.into();
    assert!(matches!(f.decrypt("pw"), Err(KeystoreError::InvalidKdfParams { .. })));
    let mut f = base.clone();
    f.crypto.kdfparams["dklen"] = 16.into();
    assert!(matches!(f.decrypt("pw"), Err(KeystoreError::InvalidKdfParams { .. })));
    let mut f = base.clone();
    f.crypto.cipherparams.iv = "zz".into();
    assert!(matches!(f.decrypt("pw"), Err(KeystoreError::InvalidField { field: "iv" })));

    let scrypt = KeyFile::encrypt_scrypt(&key, "pw", ScryptCost::Light).unwrap();
    for (field, value) in [
        ("n", serde_json::json!(1u64 << 30)),
        ("n", serde_json::json!(1000)),
        ("p", serde_json::json!(0)),
        ("r", serde_json::json!(0)),
    ] {
        let mut f = scrypt.clone();
        f.crypto.kdfparams[field] = value;
        assert!(matches!(f.decrypt("pw"), Err(KeystoreError::InvalidKdfParams { .. })), "{field}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn pbkdf2_roundtrip(key in any::<[u8; 32]>(), password in ".{0,40}") {
        let Ok(key) = PrivateKey::from_slice(&key) else { return Ok(()) };
        let file = KeyFile::encrypt_pbkdf2(&key, &password, 3).unwrap();
        let back = KeyFile::from_json(&file.to_json().unwrap()).unwrap().decrypt(&password).unwrap();
        prop_assert_eq!(back.expose_secret(), key.expose_secret());
        prop_assert_eq!(back.address(), key.address());
    }

    #[test]
    fn arbitrary_input_never_panics(doc in ".{0,300}", password in ".{0,8}") {
        if let Ok(file) = KeyFile::from_json(&doc) {
            let _ = file.decrypt(&password);
        }
    }
}

#[test]
fn scrypt_light_roundtrip() {
    let key = PrivateKey::random();
    let file = KeyFile::encrypt_scrypt(&key, "pässwörd", ScryptCost::Light).unwrap();
    let back = KeyFile::from_json(&file.to_json().unwrap()).unwrap().decrypt("pässwörd").unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
}
