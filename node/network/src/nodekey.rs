//! The GoQuorum `nodekey` file: the node's secp256k1 identity.
//!
//! The same key is the devp2p node id (the enode id is the 64-byte uncompressed public key without
//! the `04` prefix) and our libp2p identity, so a GoQuorum data directory keeps its enode and its
//! entries in other nodes' `static-nodes.json` / `permissioned-nodes.json`.

use std::{fmt, path::Path};

use alloy_primitives::{Address, keccak256};
use libp2p::{PeerId, identity};
use zeroize::Zeroizing;

use crate::error::{NetworkError, NetworkResult};

/// A secp256k1 node key, zeroized on drop. `Debug` never shows the secret.
#[derive(Clone)]
pub struct NodeKey {
    secret: Zeroizing<[u8; 32]>,
    /// Uncompressed public key without the `04` prefix (the enode id).
    public: [u8; 64],
}

impl NodeKey {
    /// Builds a key from its 32 secret bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> NetworkResult<Self> {
        let mut copy = Zeroizing::new(*bytes);
        let sk = identity::secp256k1::SecretKey::try_from_bytes(copy.as_mut())
            .map_err(|_| NetworkError::InvalidNodeKey("not a valid secp256k1 secret"))?;
        let kp = identity::secp256k1::Keypair::from(sk);
        let uncompressed = kp.public().to_bytes_uncompressed();
        let mut public = [0u8; 64];
        public.copy_from_slice(uncompressed.get(1..).unwrap_or_default());
        Ok(Self { secret: Zeroizing::new(*bytes), public })
    }

    /// Parses the `nodekey` file format: 64 hex characters, surrounding whitespace ignored.
    pub fn from_hex(text: &str) -> NetworkResult<Self> {
        let text = text.trim();
        let text = text.strip_prefix("0x").unwrap_or(text);
        if text.len() != 64 {
            return Err(NetworkError::InvalidNodeKey("expected 64 hex characters"));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text, bytes.as_mut())
            .map_err(|_| NetworkError::InvalidNodeKey("not hexadecimal"))?;
        Self::from_bytes(&bytes)
    }

    /// Generates a fresh random key.
    pub fn generate() -> Self {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, bytes.as_mut());
            if let Ok(key) = Self::from_bytes(&bytes) {
                return key;
            }
        }
    }

    /// Loads a `nodekey` file.
    pub fn load(path: impl AsRef<Path>) -> NetworkResult<Self> {
        let path = path.as_ref();
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| NetworkError::file(path, e))?);
        Self::from_hex(&text)
    }

    /// Loads the key at `path`, or generates one and saves it there (as geth does on first start).
    pub fn load_or_generate(path: impl AsRef<Path>) -> NetworkResult<Self> {
        let path = path.as_ref();
        if path.exists() {
            return Self::load(path);
        }
        let key = Self::generate();
        key.save(path)?;
        Ok(key)
    }

    /// Writes the key as 64 hex characters (no newline, like geth), mode 0600 on Unix.
    pub fn save(&self, path: impl AsRef<Path>) -> NetworkResult<()> {
        use std::io::Write;
        let path = path.as_ref();
        let hex = Zeroizing::new(hex::encode(self.secret.as_ref()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| NetworkError::file(path, e))?;
        file.write_all(hex.as_bytes()).map_err(|e| NetworkError::file(path, e))?;
        file.sync_all().map_err(|e| NetworkError::file(path, e))
    }

    /// A copy of the 32 secret bytes (zeroized on drop), for the consensus engine's validator
    /// key, which is the same key.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.secret)
    }

    /// The enode id: the uncompressed public key without its `04` prefix.
    pub fn enode_id(&self) -> [u8; 64] {
        self.public
    }

    /// The libp2p peer id of this key.
    pub fn peer_id(&self) -> PeerId {
        self.keypair().public().to_peer_id()
    }

    /// The account address of this key: `keccak256(pubkey)[12..]` (the QBFT validator address).
    pub fn address(&self) -> Address {
        Address::from_slice(keccak256(self.public).get(12..).unwrap_or_default())
    }

    /// The libp2p keypair (the swarm's identity).
    pub(crate) fn keypair(&self) -> identity::Keypair {
        let mut copy = Zeroizing::new(*self.secret);
        match identity::secp256k1::SecretKey::try_from_bytes(copy.as_mut()) {
            Ok(sk) => identity::Keypair::from(identity::secp256k1::Keypair::from(sk)),
            // The secret was validated in `from_bytes`; this branch is unreachable.
            Err(_) => identity::Keypair::generate_secp256k1(),
        }
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKey")
            .field("secret", &"<redacted>")
            .field("enode_id", &hex::encode(self.public))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let key = NodeKey::from_hex(&"11".repeat(32)).unwrap();
        let dbg = format!("{key:?}");
        assert!(!dbg.contains(&"11".repeat(32)));
        assert!(dbg.contains("redacted"));
    }

    #[test]
    fn rejects_bad_keys() {
        assert!(NodeKey::from_hex("abcd").is_err());
        assert!(NodeKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(NodeKey::from_hex(&"00".repeat(32)).is_err());
        assert!(NodeKey::from_hex(&"ff".repeat(32)).is_err());
    }

    #[test]
    fn save_load_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nodekey");
        let key = NodeKey::load_or_generate(&path).unwrap();
        let again = NodeKey::load_or_generate(&path).unwrap();
        assert_eq!(key.enode_id(), again.enode_id());
        assert_eq!(std::fs::read_to_string(&path).unwrap().len(), 64);
    }
}
