//! The committed artifacts, embedded with `include_str!` and parsed (hex-decoded) on first use.

use std::sync::LazyLock;

use crate::artifact::{Artifact, ArtifactError};

/// Every embedded artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactName {
    /// GoQuorum-quickstart-shaped `SimpleStorage`, solc's default EVM target.
    SimpleStorage,
    /// `SimpleStorage` compiled with `evmVersion: "london"` (no PUSH0), for GoQuorum-parity chains.
    SimpleStorageLondon,
    /// ERC-20 token `QrsToken(uint256 initialSupply)`, whole supply minted to the deployer.
    QrsToken,
    /// `Reverter`: reason-string, custom-error, panic and view reverts.
    Reverter,
    /// `Modern`: PUSH0, TSTORE/TLOAD and MCOPY.
    Modern,
}

impl ArtifactName {
    /// All names, in a fixed order.
    pub const ALL: [Self; 5] = [
        Self::SimpleStorage,
        Self::SimpleStorageLondon,
        Self::QrsToken,
        Self::Reverter,
        Self::Modern,
    ];

    /// The artifact file stem, e.g. `SimpleStorageLondon`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SimpleStorage => "SimpleStorage",
            Self::SimpleStorageLondon => "SimpleStorageLondon",
            Self::QrsToken => "QrsToken",
            Self::Reverter => "Reverter",
            Self::Modern => "Modern",
        }
    }

    /// Looks a name up by its file stem.
    pub fn from_name(name: &str) -> Result<Self, ArtifactError> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == name)
            .ok_or_else(|| ArtifactError::Unknown(name.to_owned()))
    }

    const fn json(self) -> &'static str {
        match self {
            Self::SimpleStorage => include_str!("../artifacts/SimpleStorage.json"),
            Self::SimpleStorageLondon => include_str!("../artifacts/SimpleStorageLondon.json"),
            Self::QrsToken => include_str!("../artifacts/QrsToken.json"),
            Self::Reverter => include_str!("../artifacts/Reverter.json"),
            Self::Modern => include_str!("../artifacts/Modern.json"),
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

static PARSED: LazyLock<[Result<Artifact, ArtifactError>; ArtifactName::ALL.len()]> =
    LazyLock::new(|| ArtifactName::ALL.map(|n| Artifact::parse(n.as_str(), n.json())));

/// The parsed artifact, or the reason the embedded JSON could not be parsed.
pub fn artifact(name: ArtifactName) -> Result<&'static Artifact, &'static ArtifactError> {
    // `PARSED` is `ALL.map(..)` and `ALL` lists the variants in discriminant order.
    PARSED[name.index()].as_ref()
}

/// Every artifact with its name.
pub fn all()
-> impl Iterator<Item = (ArtifactName, Result<&'static Artifact, &'static ArtifactError>)> {
    ArtifactName::ALL.into_iter().map(|n| (n, artifact(n)))
}

fn embedded(name: ArtifactName) -> &'static Artifact {
    match artifact(name) {
        Ok(a) => a,
        // The committed artifacts are checked by this crate's tests; a failure here means a corrupt checkout.
        Err(e) => panic!("embedded artifact is corrupt: {e}"),
    }
}

/// `SimpleStorage` (default EVM target).
///
/// # Panics
/// Only if the embedded artifact is corrupt, which this crate's tests rule out.
pub fn simple_storage() -> &'static Artifact {
    embedded(ArtifactName::SimpleStorage)
}

/// `SimpleStorage` built for London (no PUSH0).
///
/// # Panics
/// Only if the embedded artifact is corrupt, which this crate's tests rule out.
pub fn simple_storage_london() -> &'static Artifact {
    embedded(ArtifactName::SimpleStorageLondon)
}

/// The ERC-20 `QrsToken`.
///
/// # Panics
/// Only if the embedded artifact is corrupt, which this crate's tests rule out.
pub fn qrs_token() -> &'static Artifact {
    embedded(ArtifactName::QrsToken)
}

/// `Reverter`.
///
/// # Panics
/// Only if the embedded artifact is corrupt, which this crate's tests rule out.
pub fn reverter() -> &'static Artifact {
    embedded(ArtifactName::Reverter)
}

/// `Modern` (PUSH0, TSTORE/TLOAD, MCOPY).
///
/// # Panics
/// Only if the embedded artifact is corrupt, which this crate's tests rule out.
pub fn modern() -> &'static Artifact {
    embedded(ArtifactName::Modern)
}
