//! One compiled contract: its ABI JSON, creation bytecode and runtime bytecode, parsed from the artifact
//! JSON that `scripts/compile-contracts.js` writes.

use alloy_primitives::{Bytes, hex};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Errors while turning an artifact JSON document into an [`Artifact`].
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The document is not the JSON shape `{abi, bytecode, deployedBytecode, evmVersion, solc}`.
    #[error("artifact {name}: malformed JSON: {source}")]
    Json {
        /// Artifact name.
        name: String,
        /// Parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A bytecode field is not `0x`-prefixed hex.
    #[error("artifact {name}: field {field} is not 0x-prefixed hex: {source}")]
    Hex {
        /// Artifact name.
        name: String,
        /// `bytecode` or `deployedBytecode`.
        field: &'static str,
        /// Decoder error.
        #[source]
        source: hex::FromHexError,
    },
    /// A bytecode field lacks the `0x` prefix the artifact format requires.
    #[error("artifact {name}: field {field} lacks the 0x prefix")]
    MissingPrefix {
        /// Artifact name.
        name: String,
        /// `bytecode` or `deployedBytecode`.
        field: &'static str,
    },
    /// A bytecode field is empty (an abstract contract or interface was written as an artifact).
    #[error("artifact {name}: field {field} is empty")]
    EmptyCode {
        /// Artifact name.
        name: String,
        /// `bytecode` or `deployedBytecode`.
        field: &'static str,
    },
    /// No embedded artifact has this name.
    #[error("no embedded artifact named {0:?}")]
    Unknown(String),
}

/// A compiled contract.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Artifact name (the file stem in `contracts/artifacts/`), e.g. `SimpleStorageLondon`.
    pub name: &'static str,
    /// The contract ABI as JSON text (an array), ready for a JSON-ABI parser.
    pub abi_json: &'static str,
    /// Creation (init) code: deploy it followed by the ABI-encoded constructor arguments.
    pub bytecode: Bytes,
    /// Runtime code, as `eth_getCode` returns it after deployment.
    pub deployed_bytecode: Bytes,
    /// The EVM version solc targeted (`prague`, `london`, ...).
    pub evm_version: &'static str,
    /// Full solc version string, e.g. `0.8.30+commit.73712a01.Emscripten.clang`.
    pub solc: &'static str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawArtifact<'a> {
    #[serde(borrow)]
    abi: &'a RawValue,
    bytecode: &'a str,
    deployed_bytecode: &'a str,
    evm_version: &'a str,
    solc: &'a str,
}

impl Artifact {
    /// Parses an artifact document. `json` is usually an `include_str!` of a committed artifact.
    pub fn parse(name: &'static str, json: &'static str) -> Result<Self, ArtifactError> {
        let raw: RawArtifact<'static> = serde_json::from_str(json)
            .map_err(|source| ArtifactError::Json { name: name.to_owned(), source })?;
        Ok(Self {
            name,
            abi_json: raw.abi.get(),
            bytecode: decode_code(name, "bytecode", raw.bytecode)?,
            deployed_bytecode: decode_code(name, "deployedBytecode", raw.deployed_bytecode)?,
            evm_version: raw.evm_version,
            solc: raw.solc,
        })
    }

    /// Creation transaction data: the creation code followed by ABI-encoded constructor arguments
    /// (for example `SimpleStorage::constructorCall { initVal }.abi_encode()`, or empty).
    pub fn deploy_data(&self, encoded_constructor_args: &[u8]) -> Bytes {
        let mut data = Vec::with_capacity(self.bytecode.len() + encoded_constructor_args.len());
        data.extend_from_slice(&self.bytecode);
        data.extend_from_slice(encoded_constructor_args);
        data.into()
    }
}

fn decode_code(name: &str, field: &'static str, text: &str) -> Result<Bytes, ArtifactError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| ArtifactError::MissingPrefix { name: name.to_owned(), field })?;
    if digits.is_empty() {
        return Err(ArtifactError::EmptyCode { name: name.to_owned(), field });
    }
    hex::decode(digits).map(Bytes::from).map_err(|source| ArtifactError::Hex {
        name: name.to_owned(),
        field,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"abi":[{"type":"function","name":"f","inputs":[],"outputs":[],"stateMutability":"pure"}],
        "bytecode":"0x6001","deployedBytecode":"0x00","evmVersion":"london","solc":"0.8.30"}"#;

    #[test]
    fn parses_a_well_formed_artifact() {
        let a = Artifact::parse("X", OK).unwrap();
        assert_eq!(a.bytecode.as_ref(), &[0x60, 0x01]);
        assert_eq!(a.deployed_bytecode.as_ref(), &[0x00]);
        assert!(a.abi_json.starts_with("[{\"type\":\"function\""));
        assert_eq!(a.evm_version, "london");
        assert_eq!(a.deploy_data(&[0xaa]).as_ref(), &[0x60, 0x01, 0xaa]);
    }

    #[test]
    fn rejects_bad_hex_missing_prefix_empty_code_and_unknown_fields() {
        let bad_hex = OK.replace("0x6001", "0x60zz");
        let no_prefix = OK.replace("0x6001", "6001");
        let empty = OK.replace("0x6001", "0x");
        let extra = OK.replace("\"solc\"", "\"x\":1,\"solc\"");
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        assert!(matches!(
            Artifact::parse("X", leak(bad_hex)),
            Err(ArtifactError::Hex { field: "bytecode", .. })
        ));
        assert!(matches!(
            Artifact::parse("X", leak(no_prefix)),
            Err(ArtifactError::MissingPrefix { field: "bytecode", .. })
        ));
        assert!(matches!(
            Artifact::parse("X", leak(empty)),
            Err(ArtifactError::EmptyCode { field: "bytecode", .. })
        ));
        assert!(matches!(Artifact::parse("X", leak(extra)), Err(ArtifactError::Json { .. })));
    }
}
