//! The account manager: files like geth's, ordering, unlock/lock, geth's error messages.

use std::time::Duration;

use alloy_primitives::{Address, B256};
use qrs_keystore::{Keystore, KeystoreError, ScryptCost};

fn light(dir: &std::path::Path) -> Keystore {
    Keystore::open_with_cost(dir, ScryptCost::Light).unwrap()
}

#[test]
fn new_account_writes_a_geth_named_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keystore");
    let ks = light(&dir);
    assert!(ks.accounts().is_empty(), "a missing directory is an empty keystore");
    let address = ks.new_account("pw").unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    let suffix = format!("Z--{}", hex::encode(address));
    assert!(name.starts_with("UTC--") && name.ends_with(&suffix), "{name}");
    // UTC--YYYY-MM-DDTHH-MM-SS.nnnnnnnnnZ--<40 hex>
    assert_eq!(name.len(), 5 + 30 + 2 + 40, "{name}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    }
    // A second keystore over the same directory sees the account.
    assert_eq!(light(&dir).accounts(), vec![address]);
}

#[test]
fn accounts_are_ordered_by_file_name() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let mut created = Vec::new();
    for _ in 0..4 {
        created.push(ks.new_account("").unwrap());
    }
    // File names start with the creation time, so creation order is file-name order.
    assert_eq!(ks.accounts(), created);
    assert_eq!(light(tmp.path()).accounts(), created);
}

#[test]
fn import_raw_key_and_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let key: B256 =
        "0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63".parse().unwrap();
    let address = ks.import_raw_key(&key, "pw").unwrap();
    assert_eq!(address, "0xfe3b557e8fb62b89f4916b721be55ceb828dbd73".parse::<Address>().unwrap());
    let dup = ks.import_raw_key(&key, "other").unwrap_err();
    assert!(matches!(dup, KeystoreError::AccountAlreadyExists));
    assert_eq!(dup.to_string(), "account already exists");
    assert!(matches!(ks.import_raw_key(&B256::ZERO, "pw"), Err(KeystoreError::InvalidKey)));
}

#[test]
fn locked_and_unknown_accounts_have_geths_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let address = ks.new_account("pw").unwrap();
    let locked = ks.sign_hash(&address, &B256::ZERO).unwrap_err();
    assert_eq!(locked.to_string(), "authentication needed: password or unlock");
    let unknown = ks.sign_hash(&Address::with_last_byte(1), &B256::ZERO).unwrap_err();
    assert_eq!(unknown.to_string(), "unknown account");
    let no_match = ks.unlock(&Address::with_last_byte(1), "pw", None).unwrap_err();
    assert!(matches!(no_match, KeystoreError::NoMatch));
    assert_eq!(no_match.to_string(), "no key for given address or file");
    assert_eq!(
        ks.unlock(&address, "bad", None).unwrap_err().to_string(),
        "could not decrypt key with given password"
    );
    assert!(!ks.is_unlocked(&address));
}

#[test]
fn unlock_lock_and_expiry() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let a = ks.new_account("pw").unwrap();
    let b = ks.new_account("pw").unwrap();

    ks.unlock(&a, "pw", None).unwrap();
    assert!(ks.is_unlocked(&a));
    ks.sign_hash(&a, &B256::repeat_byte(1)).unwrap();
    assert!(ks.lock(&a));
    assert!(!ks.is_unlocked(&a));
    assert!(!ks.lock(&a));

    ks.unlock(&b, "pw", Some(Duration::from_millis(300))).unwrap();
    assert!(ks.is_unlocked(&b));
    std::thread::sleep(Duration::from_millis(400));
    assert!(!ks.is_unlocked(&b), "timed unlock expires");
    assert!(matches!(ks.sign_hash(&b, &B256::ZERO), Err(KeystoreError::Locked)));

    // Zero duration means indefinitely; a later timed unlock does not shorten it (geth).
    ks.unlock(&b, "pw", Some(Duration::ZERO)).unwrap();
    ks.unlock(&b, "pw", Some(Duration::from_millis(100))).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(ks.is_unlocked(&b));
}

#[test]
fn password_operations_do_not_unlock() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let a = ks.new_account("pw").unwrap();
    let sig = ks.sign_message_with_password(&a, "pw", b"x").unwrap();
    assert_eq!(sig.recover_address_from_msg(b"x").unwrap(), a);
    assert!(!ks.is_unlocked(&a));
    assert!(matches!(ks.sign_message_with_password(&a, "no", b"x"), Err(KeystoreError::Decrypt)));
}

#[test]
fn files_added_by_other_programs_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let other = light(tmp.path());
    let address = other.new_account("pw").unwrap();
    // `ks` has not rescanned yet; unlocking an unknown address rescans once.
    ks.unlock(&address, "pw", None).unwrap();
    assert_eq!(ks.accounts(), vec![address]);
}

#[test]
fn debug_output_has_no_key_material() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let key: B256 =
        "0xc87509a1c067bbde78beb793e6fa76530b6382a4c0241e5e4a9ec0a0f44dc0d3".parse().unwrap();
    let a = ks.import_raw_key(&key, "pw").unwrap();
    ks.unlock(&a, "pw", None).unwrap();
    let debug = format!("{ks:?}");
    assert!(!debug.to_lowercase().contains("c87509a1c067bbde"), "{debug}");
    let pk = qrs_keystore::PrivateKey::from_slice(key.as_slice()).unwrap();
    let debug = format!("{pk:?}");
    assert!(
        !debug.to_lowercase().contains("c87509a1c067bbde") && debug.contains("address"),
        "{debug}"
    );
}

#[test]
fn update_and_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let a = ks.new_account("old").unwrap();
    assert!(matches!(ks.update(&a, "wrong", "new"), Err(KeystoreError::Decrypt)));
    ks.update(&a, "old", "new").unwrap();
    assert!(matches!(ks.unlock(&a, "old", None), Err(KeystoreError::Decrypt)));
    ks.unlock(&a, "new", None).unwrap();
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "updated in place, no temp files left"
    );

    assert!(matches!(ks.delete(&a, "old"), Err(KeystoreError::Decrypt)));
    assert_eq!(ks.accounts(), vec![a]);
    ks.delete(&a, "new").unwrap();
    assert!(ks.accounts().is_empty());
    assert!(!ks.is_unlocked(&a));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn import_a_geth_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = light(tmp.path());
    let json = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/goquorum-quickstart/nodes/member2/accountKeystore"
    ))
    .unwrap();
    assert!(matches!(ks.import_key_file(&json, "x", "new"), Err(KeystoreError::Decrypt)));
    let a = ks.import_key_file(&json, "", "new").unwrap();
    assert_eq!(a, "0xca843569e3427144cead5e4d5999a3d0ccf92b8e".parse::<Address>().unwrap());
    assert!(matches!(
        ks.import_key_file(&json, "", "new"),
        Err(KeystoreError::AccountAlreadyExists)
    ));
    ks.unlock(&a, "new", None).unwrap();
}
