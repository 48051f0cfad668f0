//! Binary codecs for [`EncodedPayload`](crate::EncodedPayload): Tessera's LEGACY format.

pub mod legacy;

/// Why bytes could not be decoded as an encoded payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input ended inside a length prefix.
    #[error("truncated input: {field} needs 8 length bytes, {remaining} remain")]
    TruncatedLength {
        /// The field being read.
        field: &'static str,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A length prefix is negative.
    #[error("negative length {length} for {field}")]
    NegativeLength {
        /// The field being read.
        field: &'static str,
        /// The decoded length.
        length: i64,
    },
    /// A length prefix is larger than the rest of the input.
    #[error("{field} claims {length} bytes/elements but only {remaining} bytes remain")]
    LengthExceedsInput {
        /// The field being read.
        field: &'static str,
        /// The decoded length or element count.
        length: i64,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A field that must have a fixed size has another.
    #[error("{field} must be {expected} bytes, got {actual}")]
    InvalidFieldLength {
        /// The field.
        field: &'static str,
        /// Required size.
        expected: usize,
        /// Actual size.
        actual: usize,
    },
    /// The privacy flag is not 0..=3.
    #[error("unknown privacy flag {0}")]
    UnknownPrivacyFlag(u8),
    /// The same affected transaction hash appears twice.
    #[error("duplicate affected contract transaction {0}")]
    DuplicateAffectedTransaction(crate::MessageHash),
    /// Fields that are inconsistent with the privacy mode (Tessera's builder invariants).
    #[error("inconsistent payload: {0}")]
    Inconsistent(&'static str),
    /// Bytes left over after the last field.
    #[error("{0} trailing bytes after the payload")]
    TrailingBytes(usize),
}
