//! Arbitrary bytes through the instruction walker and metadata stripper: no panic, instructions tile the code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_contracts::opcodes::{PUSH0, contains_opcode, instructions, strip_solc_metadata};

fuzz_target!(|code: &[u8]| {
    let mut next_pc = 0;
    for i in instructions(code) {
        assert_eq!(i.pc, next_pc);
        next_pc = i.pc + 1 + i.immediate.len();
    }
    assert_eq!(next_pc, code.len());
    assert!(code.starts_with(strip_solc_metadata(code)));
    let _ = contains_opcode(code, PUSH0);
});
