//! GoQuorum `--permissioned` node permissioning.
//!
//! A remote node may connect (inbound) or be dialled (outbound) only if its node id is in
//! `permissioned-nodes.json` and not in `disallowed-nodes.json`. A missing
//! `permissioned-nodes.json` denies every connection, as GoQuorum does (it logs an error).
//!
//! GoQuorum reads the file on every connection attempt, so a node added to it is admitted without
//! a restart. Here a set loaded from files remembers them, and [`Permissions::reload`] re-reads
//! them: the network does so when `admin_addPeer` names a peer the current set does not allow.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use libp2p::PeerId;

use crate::{enode::Enode, error::NetworkResult, files::load_enode_list};

/// The set of peers a permissioned node accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    allowed: HashSet<PeerId>,
    /// `permissioned-nodes.json` and `disallowed-nodes.json`, when loaded from files.
    files: Option<(PathBuf, PathBuf)>,
}

impl Permissions {
    /// Allow list minus deny list.
    pub fn new(permissioned: &[Enode], disallowed: &[Enode]) -> Self {
        let denied: HashSet<PeerId> = disallowed.iter().map(Enode::peer_id).collect();
        let allowed =
            permissioned.iter().map(Enode::peer_id).filter(|p| !denied.contains(p)).collect();
        Self { allowed, files: None }
    }

    /// A permission set that denies everything.
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Loads `permissioned-nodes.json` and the optional `disallowed-nodes.json` like GoQuorum:
    /// a missing allow list denies all; a missing deny list denies nothing. A malformed file is an error.
    pub fn load(
        permissioned: impl AsRef<Path>,
        disallowed: impl AsRef<Path>,
    ) -> NetworkResult<Self> {
        let permissioned = permissioned.as_ref();
        let disallowed = disallowed.as_ref();
        let files = Some((permissioned.to_owned(), disallowed.to_owned()));
        if !permissioned.exists() {
            tracing::error!(target: "net::permissions", path = %permissioned.display(),
                "permissioned-nodes.json is missing: every connection will be denied");
            return Ok(Self { files, ..Self::deny_all() });
        }
        let allow = load_enode_list(permissioned)?;
        let deny = if disallowed.exists() { load_enode_list(disallowed)? } else { Vec::new() };
        Ok(Self { files, ..Self::new(&allow, &deny) })
    }

    /// Re-reads the files this set was [loaded](Self::load) from; `None` for a set built in
    /// memory.
    pub fn reload(&self) -> Option<NetworkResult<Self>> {
        let (permissioned, disallowed) = self.files.as_ref()?;
        Some(Self::load(permissioned, disallowed))
    }

    /// Whether `peer` may connect.
    pub fn is_allowed(&self, peer: &PeerId) -> bool {
        self.allowed.contains(peer)
    }

    /// The allowed peers.
    pub fn allowed(&self) -> impl Iterator<Item = &PeerId> {
        self.allowed.iter()
    }
}
