//! The node's account manager over a geth `keystore` directory.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy, TypedTransaction};
use alloy_primitives::{Address, B256, Signature, eip191_hash_message};
use parking_lot::{Mutex, RwLock};

use crate::filename::key_file_name;
use crate::kdf::ScryptCost;
use crate::keyfile::KeyFile;
use crate::{KeystoreError, PrivateKey};

/// Key files larger than this are not key files; they are skipped when scanning.
const MAX_KEY_FILE_SIZE: u64 = 1 << 20;
/// Like geth's account cache: rescan the directory at most this often when listing accounts.
const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// One key file found in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AccountFile {
    address: Address,
    path: PathBuf,
}

/// A decrypted key held in memory until `until` (`None` = until locked or dropped).
#[derive(Debug)]
struct Unlocked {
    /// Shared so signing happens outside the lock; zeroized when the last holder drops it.
    key: Arc<PrivateKey>,
    until: Option<Instant>,
}

impl Unlocked {
    fn expired(&self, now: Instant) -> bool {
        self.until.is_some_and(|until| until <= now)
    }
}

/// How an operation gets the key: from the unlocked set or by decrypting with a password.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Unlocked,
    Password(&'a str),
}

/// geth-compatible keystore: every key file in one directory, unlocked keys in memory.
///
/// Unlocked keys are zeroized when locked, when their unlock period has passed (checked on every
/// access), and when the keystore is dropped.
#[derive(Debug)]
pub struct Keystore {
    dir: PathBuf,
    cost: ScryptCost,
    files: RwLock<(Vec<AccountFile>, Instant)>,
    unlocked: Mutex<HashMap<Address, Unlocked>>,
}

impl Keystore {
    /// Opens the key directory (normally `<datadir>/keystore`) with geth's standard scrypt cost
    /// for new keys. A missing directory is an empty keystore; it is created on the first write.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, KeystoreError> {
        Self::open_with_cost(dir, ScryptCost::Standard)
    }

    /// Like [`Keystore::open`], choosing the scrypt cost of newly written keys
    /// ([`ScryptCost::Light`] is geth's `--lightkdf`).
    pub fn open_with_cost(
        dir: impl Into<PathBuf>,
        cost: ScryptCost,
    ) -> Result<Self, KeystoreError> {
        let dir = dir.into();
        let files = scan(&dir)?;
        tracing::debug!(target: "keystore", dir = %dir.display(), accounts = files.len(), "opened keystore");
        Ok(Self {
            dir,
            cost,
            files: RwLock::new((files, Instant::now())),
            unlocked: Mutex::new(HashMap::new()),
        })
    }

    /// The key directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Rescans the directory for key files added or removed by other programs.
    pub fn refresh(&self) -> Result<(), KeystoreError> {
        let files = scan(&self.dir)?;
        *self.files.write() = (files, Instant::now());
        Ok(())
    }

    /// Every account, in geth's order (by key file path). Rescans at most every 2 s.
    pub fn accounts(&self) -> Vec<Address> {
        if self.files.read().1.elapsed() >= RELOAD_INTERVAL
            && let Err(error) = self.refresh()
        {
            tracing::warn!(target: "keystore", %error, "keystore rescan failed");
        }
        self.files.read().0.iter().map(|f| f.address).collect()
    }

    /// Whether the keystore holds `address`.
    pub fn has_account(&self, address: &Address) -> bool {
        self.find(address).is_ok()
    }

    /// Creates a random key, stores it encrypted with `password`, returns its address.
    pub fn new_account(&self, password: &str) -> Result<Address, KeystoreError> {
        self.store(PrivateKey::random(), password)
    }

    /// Stores a raw private key (geth `personal_importRawKey`).
    pub fn import_raw_key(&self, key: &B256, password: &str) -> Result<Address, KeystoreError> {
        let key = PrivateKey::from_slice(key.as_slice())?;
        if self.has_account(&key.address()) {
            return Err(KeystoreError::AccountAlreadyExists);
        }
        self.store(key, password)
    }

    /// Imports a key file encrypted with `password`, re-encrypting it with `new_password`
    /// (geth `KeyStore.Import`).
    pub fn import_key_file(
        &self,
        json: &str,
        password: &str,
        new_password: &str,
    ) -> Result<Address, KeystoreError> {
        let key = KeyFile::from_json(json)?.decrypt(password)?;
        if self.has_account(&key.address()) {
            return Err(KeystoreError::AccountAlreadyExists);
        }
        self.store(key, new_password)
    }

    /// Re-encrypts the account's key file with `new_password` (geth `KeyStore.Update`); the
    /// file keeps its name.
    pub fn update(
        &self,
        address: &Address,
        password: &str,
        new_password: &str,
    ) -> Result<(), KeystoreError> {
        let key = self.decrypt(address, password)?;
        let path = self.find(address)?;
        let file = KeyFile::encrypt_scrypt(&key, new_password, self.cost)?;
        write_key_file(&path, file.to_json()?.as_bytes())
    }

    /// Deletes the account's key file after checking `password` (geth `KeyStore.Delete`), and
    /// forgets the key if it was unlocked.
    pub fn delete(&self, address: &Address, password: &str) -> Result<(), KeystoreError> {
        self.decrypt(address, password)?;
        let path = self.find(address)?;
        fs::remove_file(&path).map_err(io("delete", &path))?;
        self.files.write().0.retain(|f| f.path != path);
        self.unlocked.lock().remove(address);
        tracing::info!(target: "keystore", %address, "deleted key");
        Ok(())
    }

    /// Decrypts the account's key and keeps it in memory for `duration` (`None` or zero:
    /// until [`Keystore::lock`]). As in geth, a timed unlock does not shorten an indefinite one.
    pub fn unlock(
        &self,
        address: &Address,
        password: &str,
        duration: Option<Duration>,
    ) -> Result<(), KeystoreError> {
        // geth's `TimedUnlock` reports a missing key file as `ErrNoMatch`, not `ErrUnknownAccount`.
        let key = self.decrypt(address, password).map_err(|e| match e {
            KeystoreError::UnknownAccount => KeystoreError::NoMatch,
            other => other,
        })?;
        let until = duration.filter(|d| !d.is_zero()).map(|d| Instant::now() + d);
        let mut unlocked = self.unlocked.lock();
        purge_expired(&mut unlocked);
        if until.is_some() && unlocked.get(address).is_some_and(|u| u.until.is_none()) {
            return Ok(());
        }
        unlocked.insert(*address, Unlocked { key: Arc::new(key), until });
        tracing::info!(target: "keystore", %address, ?duration, "account unlocked");
        Ok(())
    }

    /// Forgets the decrypted key of `address`; returns whether it was unlocked.
    pub fn lock(&self, address: &Address) -> bool {
        let mut unlocked = self.unlocked.lock();
        purge_expired(&mut unlocked);
        unlocked.remove(address).is_some()
    }

    /// Whether `address` is unlocked now.
    pub fn is_unlocked(&self, address: &Address) -> bool {
        let mut unlocked = self.unlocked.lock();
        purge_expired(&mut unlocked);
        unlocked.contains_key(address)
    }

    /// Signs a digest with an unlocked account (geth `SignHash`).
    pub fn sign_hash(&self, address: &Address, hash: &B256) -> Result<Signature, KeystoreError> {
        self.with_key(address, Auth::Unlocked, |key| key.sign_hash(hash))
    }

    /// Signs a digest after decrypting with `password`, without unlocking.
    pub fn sign_hash_with_password(
        &self,
        address: &Address,
        password: &str,
        hash: &B256,
    ) -> Result<Signature, KeystoreError> {
        self.with_key(address, Auth::Password(password), |key| key.sign_hash(hash))
    }

    /// EIP-191 personal message signature (`eth_sign`, `personal_sign`):
    /// `keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message)`. Serialise with
    /// `Signature::as_bytes()` for geth's `r ‖ s ‖ v` with v = 27/28.
    pub fn sign_message(
        &self,
        address: &Address,
        message: &[u8],
    ) -> Result<Signature, KeystoreError> {
        self.sign_hash(address, &eip191_hash_message(message))
    }

    /// [`Keystore::sign_message`] with a password instead of an unlocked key.
    pub fn sign_message_with_password(
        &self,
        address: &Address,
        password: &str,
        message: &[u8],
    ) -> Result<Signature, KeystoreError> {
        self.sign_hash_with_password(address, password, &eip191_hash_message(message))
    }

    /// Signs `tx` for `chain_id` (legacy transactions get EIP-155 protection) with an unlocked key.
    pub fn sign_transaction(
        &self,
        address: &Address,
        tx: TypedTransaction,
        chain_id: u64,
    ) -> Result<TxEnvelope, KeystoreError> {
        self.with_key(address, Auth::Unlocked, |key| sign_typed(key, tx, chain_id))
    }

    /// [`Keystore::sign_transaction`] with a password (`personal_sendTransaction`).
    pub fn sign_transaction_with_password(
        &self,
        address: &Address,
        password: &str,
        tx: TypedTransaction,
        chain_id: u64,
    ) -> Result<TxEnvelope, KeystoreError> {
        self.with_key(address, Auth::Password(password), |key| sign_typed(key, tx, chain_id))
    }

    /// Signs a GoQuorum private transaction with an unlocked key: the Homestead hash (no chain
    /// id) is signed and `v` becomes 37/38. In alloy terms the result is a legacy transaction with
    /// `chain_id = Some(1)` (the convention of `qrs-primitives::is_private`).
    pub fn sign_private_transaction(
        &self,
        address: &Address,
        tx: TxLegacy,
    ) -> Result<TxEnvelope, KeystoreError> {
        self.with_key(address, Auth::Unlocked, |key| sign_private(key, tx))
    }

    /// [`Keystore::sign_private_transaction`] with a password.
    pub fn sign_private_transaction_with_password(
        &self,
        address: &Address,
        password: &str,
        tx: TxLegacy,
    ) -> Result<TxEnvelope, KeystoreError> {
        self.with_key(address, Auth::Password(password), |key| sign_private(key, tx))
    }

    fn with_key<T>(
        &self,
        address: &Address,
        auth: Auth<'_>,
        f: impl FnOnce(&PrivateKey) -> Result<T, KeystoreError>,
    ) -> Result<T, KeystoreError> {
        match auth {
            Auth::Password(password) => f(&self.decrypt(address, password)?),
            Auth::Unlocked => {
                self.find(address)?;
                let mut unlocked = self.unlocked.lock();
                purge_expired(&mut unlocked);
                let key = unlocked
                    .get(address)
                    .map(|u| Arc::clone(&u.key))
                    .ok_or(KeystoreError::Locked)?;
                drop(unlocked);
                f(&key)
            }
        }
    }

    /// The key file of `address`; rescans once on a miss (another program may have added it).
    fn find(&self, address: &Address) -> Result<PathBuf, KeystoreError> {
        match find_in(&self.files.read().0, address) {
            Err(KeystoreError::UnknownAccount) => {}
            other => return other,
        }
        self.refresh()?;
        find_in(&self.files.read().0, address)
    }

    fn decrypt(&self, address: &Address, password: &str) -> Result<PrivateKey, KeystoreError> {
        let path = self.find(address)?;
        let json = fs::read_to_string(&path).map_err(|source| KeystoreError::Io {
            op: "read",
            path: path.clone(),
            source,
        })?;
        let key = KeyFile::from_json(&json)?.decrypt(password)?;
        if key.address() != *address {
            return Err(KeystoreError::KeyMismatch { have: key.address(), want: *address });
        }
        Ok(key)
    }

    fn store(&self, key: PrivateKey, password: &str) -> Result<Address, KeystoreError> {
        let address = key.address();
        let file = KeyFile::encrypt_scrypt(&key, password, self.cost)?;
        let path = self.dir.join(key_file_name(&address, SystemTime::now()));
        write_key_file(&path, file.to_json()?.as_bytes())?;
        let mut files = self.files.write();
        files.0.push(AccountFile { address, path });
        files.0.sort_by(|a, b| a.path.cmp(&b.path));
        tracing::info!(target: "keystore", %address, "stored new key");
        Ok(address)
    }
}

fn find_in(files: &[AccountFile], address: &Address) -> Result<PathBuf, KeystoreError> {
    let mut matches = files.iter().filter(|f| f.address == *address);
    match (matches.next(), matches.next()) {
        (Some(f), None) => Ok(f.path.clone()),
        (Some(_), Some(_)) => Err(KeystoreError::AmbiguousAddress { address: *address }),
        (None, _) => Err(KeystoreError::UnknownAccount),
    }
}

fn purge_expired(unlocked: &mut HashMap<Address, Unlocked>) {
    let now = Instant::now();
    unlocked.retain(|_, u| !u.expired(now));
}

fn sign_typed(
    key: &PrivateKey,
    mut tx: TypedTransaction,
    chain_id: u64,
) -> Result<TxEnvelope, KeystoreError> {
    tx.set_chain_id(chain_id);
    let signature = key.sign_hash(&tx.signature_hash())?;
    Ok(tx.into_envelope(signature))
}

fn sign_private(key: &PrivateKey, mut tx: TxLegacy) -> Result<TxEnvelope, KeystoreError> {
    tx.chain_id = None;
    let signature = key.sign_hash(&tx.signature_hash())?;
    // v = 35 + 2·1 + parity = 37/38: GoQuorum's private marker.
    tx.chain_id = Some(1);
    Ok(TxEnvelope::Legacy(tx.into_signed(signature)))
}

/// Lists key files like geth's account cache: regular files not starting with `.` or ending
/// with `~`, holding JSON with a non-zero `address`; sorted by path.
fn scan(dir: &Path) -> Result<Vec<AccountFile>, KeystoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(KeystoreError::Io {
                op: "read directory",
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || meta.len() > MAX_KEY_FILE_SIZE {
            continue;
        }
        let path = entry.path();
        match fs::read_to_string(&path)
            .ok()
            .and_then(|s| KeyFile::from_json(&s).ok())
            .and_then(|k| k.recorded_address())
        {
            Some(address) if !address.is_zero() => files.push(AccountFile { address, path }),
            _ => {
                tracing::debug!(target: "keystore", path = %path.display(), "skipping file: not a key file")
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Writes the file like geth: directory 0700, a temporary file 0600 in it, then an atomic rename.
fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> KeystoreError + use<> {
    let path = path.to_path_buf();
    move |source| KeystoreError::Io { op, path, source }
}

fn write_key_file(path: &Path, contents: &[u8]) -> Result<(), KeystoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io("create directory", dir))?;
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{:016x}", rand::random::<u64>()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(io("create", &tmp))?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(io("write", &tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io("rename", path))
}
