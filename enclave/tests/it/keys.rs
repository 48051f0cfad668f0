//! Key files and key configuration: quickstart files, Tessera's and Constellation's locked-key
//! fixtures, key generation, the `keys` config section.

use std::path::Path;

use qrs_enclave::keys::config::{read_private_key_file, read_public_key_file};
use qrs_enclave::keys::file::PrivateKeyFile;
use qrs_enclave::keys::{ArgonOptions, ArgonVariant, ArgonVersion, generate_key_files_with};
use qrs_enclave::{
    KeyConfiguration, KeyError, PrivateKey, PublicKey, SecretString, generate_key_files,
};

use crate::support::member_dir;

/// `config/src/test/resources/lockedprivatekey.json` of ConsenSys/tessera (password `q`).
const TESSERA_LOCKED: &str = r#"{"data":{"aopts":{"variant":"id","memory":1048576,"iterations":10,"parallelism":4},
  "snonce":"x3HUNXH6LQldKtEv3q0h0hR4S12Ur9pC","asalt":"7Sem2tc6fjEfW3yYUDN/kSslKEW0e1zqKnBCWbZu2Zw=",
  "sbox":"d0CmRus0rP0bdc7P7d/wnOyEW14pwFJmcLbdu2W3HmDNRWVJtoNpHrauA/Sr5Vxc"},"type":"argon2sbox"}"#;
/// What Tessera's test configs pair with that locked key. It is NOT its public key.
const TESSERA_CONFIGURED_PUBLIC: &str = "/+UuD63zItL1EbjxkKUljMgG8Z1w0AJ8pNOR4iq2yQc=";
/// The real public key of the locked fixture, computed independently with argon2-cffi + PyNaCl.
const TESSERA_LOCKED_PUBLIC: &str = "zP9kWRDB83v7TSZrAEXRgeexKkejHM48cpZOqnt3oyo=";

/// `testUnlockV0` key of jpmorganchase/constellation (Argon2i, 8 MiB, no version: 1.3; password `foo`).
const CONSTELLATION_LOCKED: &str = r#"{"data":{"aopts":{"variant":"i","memory":8192,"iterations":2,"parallelism":2},"snonce":"LJ7QUiZ0kD/mPf/aHvCEQKDhlUucZM0s","asalt":"I5bvdFhNpr8hlknzOHIO7Q3S5Ubs9ucUdVneghrebZQ=","sbox":"iHJAfcpWWE5PsvwZRwr5gCtwMKu7xXZAAPCVRGfx06l/I5QgXs0V/czOqYsMxoEG"},"type":"argon2sbox"}"#;

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

const CHEAP: ArgonOptions = ArgonOptions {
    variant: ArgonVariant::Id,
    memory: 1024,
    iterations: 1,
    parallelism: 1,
    version: None,
};

#[test]
fn quickstart_key_files_load_and_match() {
    for n in 1..=3 {
        for name in ["tm", "tma"] {
            let dir = member_dir(n);
            let private = read_private_key_file(&dir.join(format!("{name}.key")), None).unwrap();
            let public = read_public_key_file(&dir.join(format!("{name}.pub"))).unwrap();
            assert_eq!(private.public_key(), public, "member{n}/{name}");
        }
    }
    assert_eq!(
        read_public_key_file(&member_dir(1).join("tm.pub")).unwrap().to_string(),
        "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo="
    );
}

#[test]
fn tessera_locked_fixture_unlocks_with_argon2id_1gib() {
    let file = PrivateKeyFile::parse(TESSERA_LOCKED, "tessera fixture").unwrap();
    assert!(file.is_locked());
    let key = file.unlock(Some(&secret("q")), "tessera fixture").unwrap();
    assert_eq!(key.public_key().to_string(), TESSERA_LOCKED_PUBLIC);

    // Tessera's keytests/pubPrivInlineLocked.json pairs it with another public key; Tessera
    // does not notice, we refuse (boxes sent to that key could never be opened).
    let config: KeyConfiguration = serde_json::from_value(serde_json::json!({
        "passwords": ["q"],
        "keyData": [{
            "config": serde_json::from_str::<serde_json::Value>(TESSERA_LOCKED).unwrap(),
            "publicKey": TESSERA_CONFIGURED_PUBLIC
        }]
    }))
    .unwrap();
    let err = config.load().unwrap_err();
    assert!(matches!(err, KeyError::PublicKeyMismatch { .. }), "{err}");
}

#[test]
fn constellation_locked_fixture_and_wrong_password() {
    let file = PrivateKeyFile::parse(CONSTELLATION_LOCKED, "constellation fixture").unwrap();
    let key = file.unlock(Some(&secret("foo")), "constellation fixture").unwrap();
    // Unlocking is deterministic and yields a usable X25519 key.
    let again = file.unlock(Some(&secret("foo")), "constellation fixture").unwrap();
    assert_eq!(key, again);
    let err = file.unlock(Some(&secret("bar")), "constellation fixture").unwrap_err();
    assert!(matches!(err, KeyError::WrongPassword { .. }), "{err}");
    assert!(err.to_string().contains("wrong password"), "{err}");
    let err = file.unlock(None, "constellation fixture").unwrap_err();
    assert!(matches!(err, KeyError::PasswordRequired { .. }), "{err}");
}

#[test]
fn malformed_key_files_give_clear_errors() {
    for (json, expect) in [
        (r#"{"type":"unlocked","data":{"bytes":"AAAA"}}"#, "32 bytes"),
        (r#"{"type":"unlocked","data":{"bytes":"!!"}}"#, "base64"),
        (r#"{"type":"weird","data":{}}"#, "weird"),
        (
            r#"{"type":"argon2sbox","data":{"aopts":{"variant":"x","memory":8,"iterations":1,"parallelism":1},"snonce":"","asalt":"","sbox":""}}"#,
            "variant",
        ),
        ("not json", "JSON"),
        (
            r#"{"type":"argon2sbox","data":{"aopts":{"variant":"id","memory":4294967295,"iterations":1,"parallelism":1},"snonce":"x3HUNXH6LQldKtEv3q0h0hR4S12Ur9pC","asalt":"7Sem2tc6fjEfW3yYUDN/kSslKEW0e1zqKnBCWbZu2Zw=","sbox":"AAAA"}}"#,
            "limit",
        ),
        (
            r#"{"type":"argon2sbox","data":{"aopts":{"variant":"id","memory":8,"iterations":0,"parallelism":1},"snonce":"x3HUNXH6LQldKtEv3q0h0hR4S12Ur9pC","asalt":"7Sem2tc6fjEfW3yYUDN/kSslKEW0e1zqKnBCWbZu2Zw=","sbox":"AAAA"}}"#,
            "argon2",
        ),
        (
            r#"{"type":"argon2sbox","data":{"aopts":{"variant":"id","memory":8,"iterations":1,"parallelism":1},"snonce":"AAAA","asalt":"7Sem2tc6fjEfW3yYUDN/kSslKEW0e1zqKnBCWbZu2Zw=","sbox":"AAAA"}}"#,
            "snonce",
        ),
    ] {
        let err = PrivateKeyFile::parse(json, "test")
            .and_then(|f| f.unlock(Some(&secret("p")), "test"))
            .unwrap_err();
        assert!(
            err.to_string().contains(expect) || format!("{err:?}").contains(expect),
            "{json}: {err}"
        );
    }
}

#[test]
fn private_keys_never_print() {
    let key = PrivateKey::generate();
    assert_eq!(format!("{key:?}"), "<redacted>");
    assert_eq!(format!("{key}"), "<redacted>");
    let config: KeyConfiguration = serde_json::from_str(
        r#"{"passwords":["hunter2"],"keyData":[{"privateKey":"yAWAJjwPqUtNVlqGjSrBmr1/iIkghuOh1803Yzx9jLM="}]}"#,
    )
    .unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("yAWAJ"), "{shown}");
    let pairs = config.load().unwrap();
    let shown = format!("{pairs:?}");
    assert!(!shown.contains("yAWAJ"), "{shown}");
}

#[test]
fn keygen_writes_tessera_files() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("node");
    let public = generate_key_files(&prefix, None).unwrap();
    let pub_text = std::fs::read_to_string(dir.path().join("node.pub")).unwrap();
    assert_eq!(pub_text, public.to_base64());
    let key_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("node.key")).unwrap())
            .unwrap();
    assert_eq!(key_json["type"], "unlocked");
    assert_eq!(
        read_private_key_file(&dir.path().join("node.key"), None).unwrap().public_key(),
        public
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("node.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwrites.
    let err = generate_key_files(&prefix, None).unwrap_err();
    assert!(matches!(err, KeyError::AlreadyExists(_)), "{err}");
    assert_eq!(read_public_key_file(&dir.path().join("node.pub")).unwrap(), public);
}

#[test]
fn keygen_locked_roundtrips_every_variant_and_version() {
    let dir = tempfile::tempdir().unwrap();
    for (i, variant) in [ArgonVariant::I, ArgonVariant::D, ArgonVariant::Id].into_iter().enumerate()
    {
        for (j, version) in
            [None, Some(ArgonVersion::V10), Some(ArgonVersion::V13)].into_iter().enumerate()
        {
            let options = ArgonOptions { variant, version, ..CHEAP };
            let prefix = dir.path().join(format!("k{i}{j}"));
            let public =
                generate_key_files_with(&prefix, Some(&secret("pässword")), &options).unwrap();
            let key_path = prefix.with_extension("key");
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
            assert_eq!(json["type"], "argon2sbox");
            assert!(json["data"].get("password").is_none());
            assert_eq!(
                read_private_key_file(&key_path, Some(&secret("pässword"))).unwrap().public_key(),
                public
            );
            let err = read_private_key_file(&key_path, Some(&secret("password"))).unwrap_err();
            assert!(matches!(err, KeyError::WrongPassword { .. }), "{err}");
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn key_configuration_sources() {
    let dir = tempfile::tempdir().unwrap();
    let locked_path = write(dir.path(), "locked.key", CONSTELLATION_LOCKED);
    let m1 = member_dir(1);
    // Quickstart-style paths, an inline locked config, an inline private key; passwords by
    // position with a blank line for the unlocked keys.
    let config = serde_json::json!({
        "passwordFile": write(dir.path(), "passwords.txt", "\nfoo\n\n"),
        "keyData": [
            {"privateKeyPath": m1.join("tm.key"), "publicKeyPath": m1.join("tm.pub")},
            {"config": serde_json::from_str::<serde_json::Value>(CONSTELLATION_LOCKED).unwrap()},
            {"privateKey": "yAWAJjwPqUtNVlqGjSrBmr1/iIkghuOh1803Yzx9jLM=", "publicKey": TESSERA_CONFIGURED_PUBLIC}
        ]
    });
    let config: KeyConfiguration = serde_json::from_value(config).unwrap();
    let pairs = config.load().unwrap();
    assert_eq!(pairs.len(), 3);
    assert_eq!(pairs[0].public.to_string(), "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=");
    assert_eq!(pairs[2].public.to_string(), TESSERA_CONFIGURED_PUBLIC);

    // Inline passwords; locked key through a path.
    let config: KeyConfiguration = serde_json::from_value(serde_json::json!({
        "passwords": ["foo"],
        "keyData": [{"privateKeyPath": locked_path}]
    }))
    .unwrap();
    assert_eq!(config.load().unwrap()[0].public, pairs[1].public);

    // Old inline `data.password`.
    let mut inline: serde_json::Value = serde_json::from_str(CONSTELLATION_LOCKED).unwrap();
    inline["data"]["password"] = "foo".into();
    let config: KeyConfiguration =
        serde_json::from_value(serde_json::json!({"keyData": [{"config": inline}]})).unwrap();
    assert_eq!(config.load().unwrap()[0].public, pairs[1].public);
}

#[test]
fn key_configuration_errors() {
    let m1 = member_dir(1);
    let m2 = member_dir(2);
    let load = |v: serde_json::Value| {
        serde_json::from_value::<KeyConfiguration>(v).unwrap().load().unwrap_err()
    };

    let err = load(
        serde_json::json!({"keyData": [{"privateKeyPath": m1.join("tm.key"), "publicKeyPath": m2.join("tm.pub")}]}),
    );
    assert!(matches!(err, KeyError::PublicKeyMismatch { .. }), "{err}");

    let err = load(
        serde_json::json!({"keyData": [{"config": serde_json::from_str::<serde_json::Value>(CONSTELLATION_LOCKED).unwrap()}]}),
    );
    assert!(matches!(err, KeyError::PasswordRequired { .. }), "{err}");

    let err = load(
        serde_json::json!({"passwords": ["nope"], "keyData": [{"config": serde_json::from_str::<serde_json::Value>(CONSTELLATION_LOCKED).unwrap()}]}),
    );
    assert!(matches!(err, KeyError::WrongPassword { .. }), "{err}");

    let err = load(
        serde_json::json!({"keyData": [{"hashicorpVaultSecretName": "x", "hashicorpVaultPrivateKeyId": "p"}]}),
    );
    assert!(matches!(err, KeyError::UnsupportedSource { index: 0, .. }), "{err}");

    let err = load(serde_json::json!({"keyData": [{"publicKey": TESSERA_CONFIGURED_PUBLIC}]}));
    assert!(matches!(err, KeyError::Incomplete { index: 0, .. }), "{err}");

    let err = load(serde_json::json!({"keyData": [{"privateKeyPath": "/nonexistent/tm.key"}]}));
    assert!(matches!(err, KeyError::Io { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/tm.key"), "{err}");
}

#[test]
fn known_tessera_pair_derives() {
    let config: KeyConfiguration = serde_json::from_str(
        r#"{"keyData":[{"privateKey":"DK0HDgMWJKtZVaP31mPhk6TJNACfVzz7VZv2PsQZeKM="}]}"#,
    )
    .unwrap();
    let public: PublicKey = "kNEG3Jx+IWeXoF3M3HI6vxsDfLlo1g9BJ2q2t+eIX1Y=".parse().unwrap();
    assert_eq!(config.load().unwrap()[0].public, public);
}
