//! Every committed artifact decodes, and each build uses exactly the opcodes its EVM target implies.

use alloy_json_abi::JsonAbi;
use qrs_contracts::opcodes::{MCOPY, PUSH0, TLOAD, TSTORE, contains_opcode};
use qrs_contracts::{ArtifactName, all, artifact, modern, simple_storage, simple_storage_london};

#[test]
fn every_artifact_decodes_with_code_and_an_abi() {
    let mut seen = 0;
    for (name, parsed) in all() {
        let a = parsed.unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(a.name, name.as_str());
        assert!(
            a.bytecode.len() > a.deployed_bytecode.len(),
            "{name:?}: creation code embeds runtime code"
        );
        assert!(!a.deployed_bytecode.is_empty(), "{name:?}");
        let abi: JsonAbi =
            serde_json::from_str(a.abi_json).unwrap_or_else(|e| panic!("{name:?} ABI: {e}"));
        assert!(abi.functions().count() > 0, "{name:?} has functions");
        assert!(a.solc.starts_with("0.8."), "{name:?} solc {}", a.solc);
        seen += 1;
    }
    assert_eq!(seen, ArtifactName::ALL.len());
}

#[test]
fn names_round_trip_and_unknown_names_are_errors() {
    for n in ArtifactName::ALL {
        assert_eq!(ArtifactName::from_name(n.as_str()).unwrap(), n);
    }
    let err = ArtifactName::from_name("Nope").unwrap_err();
    assert_eq!(err.to_string(), "no embedded artifact named \"Nope\"");
}

#[test]
fn creation_code_embeds_the_runtime_code() {
    for (name, a) in all() {
        let a = a.unwrap();
        let runtime = a.deployed_bytecode.as_ref();
        assert!(
            a.bytecode.windows(runtime.len()).any(|w| w == runtime),
            "{name:?}: deployedBytecode is not inside bytecode"
        );
    }
}

#[test]
fn modern_uses_push0_tstore_tload_and_mcopy_as_opcodes() {
    let m = modern();
    for (op, label) in [(PUSH0, "PUSH0"), (TSTORE, "TSTORE"), (TLOAD, "TLOAD"), (MCOPY, "MCOPY")] {
        assert!(contains_opcode(&m.deployed_bytecode, op), "Modern runtime code lacks {label}");
    }
    assert!(contains_opcode(&m.bytecode, PUSH0), "Modern creation code lacks PUSH0");
}

#[test]
fn default_simple_storage_uses_push0_and_the_london_build_does_not() {
    let default = simple_storage();
    let london = simple_storage_london();
    assert_eq!(london.evm_version, "london");
    assert_ne!(default.evm_version, "london");
    assert!(contains_opcode(&default.deployed_bytecode, PUSH0));
    for code in [&london.bytecode, &london.deployed_bytecode] {
        for op in [PUSH0, TSTORE, TLOAD, MCOPY] {
            assert!(
                !contains_opcode(code, op),
                "London SimpleStorage uses post-London opcode {op:#04x}"
            );
        }
    }
    // Same contract, same interface.
    assert_eq!(default.abi_json, london.abi_json);
}

#[test]
fn every_default_build_targets_the_same_evm() {
    let target = simple_storage().evm_version;
    for (name, a) in all() {
        if name != ArtifactName::SimpleStorageLondon {
            assert_eq!(artifact(name).unwrap().evm_version, target, "{name:?}");
            assert_eq!(a.unwrap().solc, simple_storage().solc, "{name:?}");
        }
    }
}
