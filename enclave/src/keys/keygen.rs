//! Key generation in Tessera's file formats: `NAME.pub` (base64) and `NAME.key` (unlocked or
//! `argon2sbox` JSON).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::file::{ArgonOptions, PrivateKeyFile};
use super::{KeyError, KeyPair, PrivateKey};
use crate::types::PublicKey;

/// Generates a key pair and writes `<path_prefix>.pub` and `<path_prefix>.key` (locked with
/// Tessera's default Argon2 options when `password` is given). Existing files are never
/// overwritten. Returns the new public key.
pub fn generate_key_files(
    path_prefix: impl AsRef<Path>,
    password: Option<&SecretString>,
) -> Result<PublicKey, KeyError> {
    generate_key_files_with(path_prefix.as_ref(), password, &ArgonOptions::TESSERA_DEFAULT)
}

/// [`generate_key_files`] with explicit Argon2 options for locked keys.
pub fn generate_key_files_with(
    path_prefix: &Path,
    password: Option<&SecretString>,
    options: &ArgonOptions,
) -> Result<PublicKey, KeyError> {
    let pair = KeyPair::from_private(PrivateKey::generate());
    let private_json = match password {
        Some(password) => {
            zeroize::Zeroizing::new(PrivateKeyFile::locked_json(&pair.private, password, options)?)
        }
        None => PrivateKeyFile::unlocked_json(&pair.private),
    };
    let pub_path = with_suffix(path_prefix, "pub");
    let key_path = with_suffix(path_prefix, "key");
    for path in [&pub_path, &key_path] {
        if path.exists() {
            return Err(KeyError::AlreadyExists(path.clone()));
        }
    }
    write_new(&key_path, private_json.as_bytes(), true)?;
    write_new(&pub_path, pair.public.to_base64().as_bytes(), false)?;
    tracing::info!(target: "enclave::keys", public_key = %pair.public, path = %pub_path.display(), "generated key pair");
    Ok(pair.public)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.to_owned(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}
