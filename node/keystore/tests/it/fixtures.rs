//! The quickstart's geth-written key files decrypt to the published keys.

use std::path::PathBuf;

use alloy_primitives::{Address, B256, hex};
use qrs_keystore::{KeyFile, Keystore, PrivateKey};

fn nodes() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/goquorum-quickstart/nodes"
    ))
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One test, sequential: each file uses geth's standard scrypt (256 MiB, N = 2^18).
#[test]
fn every_quickstart_account_keystore_decrypts() {
    let mut dirs: Vec<_> = std::fs::read_dir(nodes()).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    assert_eq!(dirs.len(), 8);
    for dir in dirs {
        let json = read(dir.join("accountKeystore"));
        let password = read(dir.join("accountPassword"));
        let file = KeyFile::from_json(&json).unwrap();
        let key = file
            .decrypt(password.trim_end_matches(['\r', '\n']))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let expected_key: B256 = read(dir.join("accountPrivateKey")).trim().parse().unwrap();
        assert_eq!(key.expose_secret().as_slice(), expected_key.as_slice(), "{}", dir.display());
        assert_eq!(Some(key.address()), file.recorded_address(), "{}", dir.display());
        // `address` in the quickstart is the node address (of `nodekey`), not the account's.
        let node_address: Address = read(dir.join("address")).trim().parse().unwrap();
        let nodekey = hex::decode(read(dir.join("nodekey")).trim()).unwrap();
        assert_eq!(
            PrivateKey::from_slice(&nodekey).unwrap().address(),
            node_address,
            "{}",
            dir.display()
        );
    }
}

#[test]
fn keystore_directory_with_a_quickstart_file() {
    let tmp = tempfile::tempdir().unwrap();
    let json = read(nodes().join("member1/accountKeystore"));
    std::fs::write(
        tmp.path()
            .join("UTC--2020-01-01T00-00-00.000000000Z--f0e2db6c8dc6c681bb5d6ad121a107f300e9b2b5"),
        &json,
    )
    .unwrap();
    // Not key files: ignored like geth ignores them.
    std::fs::write(tmp.path().join("README"), "hello").unwrap();
    std::fs::write(tmp.path().join(".hidden"), &json).unwrap();
    std::fs::write(tmp.path().join("backup~"), &json).unwrap();
    let ks = Keystore::open(tmp.path()).unwrap();
    let address: Address = "0xf0e2db6c8dc6c681bb5d6ad121a107f300e9b2b5".parse().unwrap();
    assert_eq!(ks.accounts(), vec![address]);
    let wrong = ks.unlock(&address, "not the password", None).unwrap_err();
    assert_eq!(wrong.to_string(), "could not decrypt key with given password");
    ks.unlock(&address, "", None).unwrap();
    assert!(ks.is_unlocked(&address));
    let sig = ks.sign_message(&address, b"hello").unwrap();
    assert_eq!(sig.recover_address_from_msg(b"hello").unwrap(), address);
}
