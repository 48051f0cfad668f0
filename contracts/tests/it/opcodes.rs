//! The instruction walker: known sequences, PUSH data is skipped, metadata is stripped, and arbitrary
//! bytes never panic.

use proptest::prelude::*;
use qrs_contracts::opcodes::{PUSH0, contains_opcode, instructions, strip_solc_metadata};

#[test]
fn push_data_is_not_mistaken_for_opcodes() {
    // PUSH2 0x5f5f, STOP: 0x5f only inside push data.
    let code = [0x61, 0x5f, 0x5f, 0x00];
    assert!(!contains_opcode(&code, PUSH0));
    let ops: Vec<(usize, u8)> = instructions(&code).map(|i| (i.pc, i.opcode)).collect();
    assert_eq!(ops, vec![(0, 0x61), (3, 0x00)]);
    // PUSH1 0x01, PUSH0.
    assert!(contains_opcode(&[0x60, 0x01, 0x5f], PUSH0));
}

#[test]
fn truncated_push_yields_a_short_immediate() {
    let code = [0x7f, 0x01, 0x02];
    let all: Vec<_> = instructions(&code).collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].immediate, &[0x01, 0x02]);
}

#[test]
fn solc_metadata_trailer_is_stripped() {
    // code STOP, then a CBOR map {"a": 0x5f} (a1 61 61 18 5f) and its length 0x0005.
    let code = [0x00, 0xa1, 0x61, 0x61, 0x18, 0x5f, 0x00, 0x05];
    assert_eq!(strip_solc_metadata(&code), &[0x00]);
    assert!(!contains_opcode(&code, PUSH0));
    // A length that points before the start leaves the code alone.
    assert_eq!(strip_solc_metadata(&[0x5f, 0xff, 0xff]), &[0x5f, 0xff, 0xff]);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_instructions_tile_the_code(code in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut next_pc = 0;
        for i in instructions(&code) {
            prop_assert_eq!(i.pc, next_pc);
            prop_assert_eq!(code[i.pc], i.opcode);
            next_pc = i.pc + 1 + i.immediate.len();
        }
        prop_assert_eq!(next_pc, code.len());
        let stripped = strip_solc_metadata(&code);
        prop_assert!(code.starts_with(stripped));
        let _ = contains_opcode(&code, PUSH0);
    }
}
