//! Per-node key material, in the quickstart's file names:
//! `nodekey`, `nodekey.pub`, `address`, `accountKeystore` (+ a copy in `keystore/`),
//! `accountPassword`, `accountPrivateKey`, and for members `tm/tm.key` + `tm/tm.pub`.

use std::{path::Path, time::SystemTime};

use alloy_primitives::Address;
use qrs_keystore::{KeyFile, PrivateKey, ScryptCost, filename::key_file_name};
use qrs_network::NodeKey;

use super::files::{create_dir, write_file, write_secret};
use crate::{error::QnetError, layout::NodePlan};

/// The account password the quickstart uses (empty). The password file holds one empty line so
/// that line-based readers (`--password`) see exactly one password.
pub const ACCOUNT_PASSWORD: &str = "";

/// What was generated for one node.
#[derive(Debug, Clone)]
pub struct NodeKeys {
    /// The node key (enode id; QBFT validator address).
    pub nodekey: NodeKey,
    /// The funded account.
    pub account: Address,
    /// The TM's base64 public key (members).
    pub tm_public_key: Option<String>,
}

/// Generates and writes every key file of `node` under `dir`.
pub fn generate_node_keys(
    dir: &Path,
    node: &NodePlan,
    cost: ScryptCost,
) -> Result<NodeKeys, QnetError> {
    create_dir(&dir.join(node.dir()))?;
    let nodekey = NodeKey::generate();
    nodekey.save(dir.join(node.nodekey()))?;
    write_file(&dir.join(node.file("nodekey.pub")), hex::encode(nodekey.enode_id()).as_bytes())?;
    write_file(&dir.join(node.file("address")), format!("{:#x}\n", nodekey.address()).as_bytes())?;

    let account_key = PrivateKey::random();
    let account = account_key.address();
    let keyfile = KeyFile::encrypt_scrypt(&account_key, ACCOUNT_PASSWORD, cost)?.to_json()?;
    write_secret(&dir.join(node.account_keystore()), keyfile.as_bytes())?;
    let keystore = dir.join(node.keystore_dir());
    create_dir(&keystore)?;
    write_secret(&keystore.join(key_file_name(&account, SystemTime::now())), keyfile.as_bytes())?;
    write_secret(&dir.join(node.account_password()), format!("{ACCOUNT_PASSWORD}\n").as_bytes())?;
    let secret = account_key.expose_secret();
    let hex_key = zeroize::Zeroizing::new(format!("0x{}", hex::encode(secret.as_slice())));
    write_secret(&dir.join(node.account_private_key()), hex_key.as_bytes())?;

    let tm_public_key = match node.tm {
        Some(_) => {
            create_dir(&dir.join(node.tm_dir()))?;
            let prefix = dir.join(node.tm_dir()).join("tm");
            Some(qrs_enclave::generate_key_files(&prefix, None)?.to_base64())
        }
        None => None,
    };
    tracing::debug!(target: "qnet::keys", node = %node.name, %account, "generated keys");
    Ok(NodeKeys { nodekey, account, tm_public_key })
}
