//! EVM instruction walking: splits bytecode into instructions, skipping PUSH immediates, so a test can
//! tell an opcode byte (PUSH0 = `0x5f`) from the same byte inside push data.

/// `PUSH0` (Shanghai).
pub const PUSH0: u8 = 0x5f;
/// `PUSH1`.
pub const PUSH1: u8 = 0x60;
/// `PUSH32`.
pub const PUSH32: u8 = 0x7f;
/// `TLOAD` (Cancun).
pub const TLOAD: u8 = 0x5c;
/// `TSTORE` (Cancun).
pub const TSTORE: u8 = 0x5d;
/// `MCOPY` (Cancun).
pub const MCOPY: u8 = 0x5e;

/// One decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction<'a> {
    /// Byte offset of the opcode in the code.
    pub pc: usize,
    /// The opcode byte.
    pub opcode: u8,
    /// PUSH immediate (shorter than the opcode announces when the code is truncated).
    pub immediate: &'a [u8],
}

/// Iterator over the instructions of a byte string. Never panics, whatever the input.
#[derive(Debug, Clone)]
pub struct Instructions<'a> {
    code: &'a [u8],
    pc: usize,
}

impl<'a> Iterator for Instructions<'a> {
    type Item = Instruction<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let pc = self.pc;
        let (&opcode, rest) = self.code.get(pc..)?.split_first()?;
        let push_len =
            if (PUSH1..=PUSH32).contains(&opcode) { usize::from(opcode - PUSH1) + 1 } else { 0 };
        let immediate = rest.get(..push_len).unwrap_or(rest);
        self.pc = pc.saturating_add(1).saturating_add(immediate.len());
        Some(Instruction { pc, opcode, immediate })
    }
}

/// Walks `code` from offset 0.
pub fn instructions(code: &[u8]) -> Instructions<'_> {
    Instructions { code, pc: 0 }
}

/// `code` without solc's trailing CBOR metadata (`a2/a1 ... <2-byte big-endian length>`), when present.
/// The metadata is data, not code; walking it as instructions could report opcodes that never run.
pub fn strip_solc_metadata(code: &[u8]) -> &[u8] {
    let Some((body, len_bytes)) = code.split_last_chunk::<2>() else {
        return code;
    };
    let meta_len = usize::from(u16::from_be_bytes(*len_bytes));
    let Some(start) = body.len().checked_sub(meta_len) else {
        return code;
    };
    match body.get(start) {
        // CBOR map header with 1..=3 entries: solc writes `ipfs`/`bzzr1`, `solc`, optionally `experimental`.
        Some(0xa1..=0xa3) if meta_len > 0 => body.get(..start).unwrap_or(code),
        _ => code,
    }
}

/// Whether `opcode` occurs as an instruction (not as push data) in `code` outside solc's metadata trailer.
pub fn contains_opcode(code: &[u8], opcode: u8) -> bool {
    instructions(strip_solc_metadata(code)).any(|i| i.opcode == opcode)
}
