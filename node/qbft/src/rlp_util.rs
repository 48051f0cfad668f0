//! Strict RLP helpers that reject what Go's `rlp.DecodeBytes` rejects.
//!
//! GoQuorum decodes consensus data with go-ethereum's `rlp` package, which refuses trailing bytes
//! after the top-level value, struct lists with too many or too few elements, non-canonical
//! sizes and integers with leading zeros. `alloy-rlp` already enforces the canonical forms; these
//! helpers add the "exact list" and "no trailing bytes" rules.

use alloy_rlp::{Error, Header};

/// Decodes one list header and returns its payload, advancing `buf` past the whole list.
pub(crate) fn list_payload<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let header = Header::decode(buf)?;
    if !header.list {
        return Err(Error::UnexpectedString);
    }
    let (payload, rest) =
        buf.split_at_checked(header.payload_length).ok_or(Error::InputTooShort)?;
    *buf = rest;
    Ok(payload)
}

/// Returns the raw bytes (header included) of the next item, advancing `buf` past it.
pub(crate) fn raw_item<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let start = *buf;
    let mut probe = *buf;
    let header = Header::decode(&mut probe)?;
    let header_len = start.len().saturating_sub(probe.len());
    let total = header_len.checked_add(header.payload_length).ok_or(Error::Overflow)?;
    let (item, rest) = start.split_at_checked(total).ok_or(Error::InputTooShort)?;
    *buf = rest;
    Ok(item)
}

/// Fails unless `buf` has been fully consumed (Go: "input list has too many elements" /
/// `ErrMoreThanOneValue`).
pub(crate) fn finish(buf: &[u8]) -> Result<(), Error> {
    if buf.is_empty() { Ok(()) } else { Err(Error::Custom("trailing data after RLP value")) }
}

/// True when Go's `Stream.Kind` reports size 0 for the next item: an empty string (`0x80`), an
/// empty list (`0xc0`) or a single byte below `0x80`. GoQuorum's ROUND-CHANGE decoder skips such
/// an item as "no prepared block" / "no justification".
pub(crate) fn next_is_empty(buf: &[u8]) -> bool {
    matches!(buf.first(), Some(b) if *b <= 0x80 || *b == 0xc0)
}

/// Decodes a list of `T` written with `f`, requiring the list payload to be consumed.
pub(crate) fn decode_list_with<'a, T>(
    buf: &mut &'a [u8],
    mut f: impl FnMut(&mut &'a [u8]) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let mut payload = list_payload(buf)?;
    let mut out = Vec::new();
    while !payload.is_empty() {
        out.push(f(&mut payload)?);
    }
    Ok(out)
}
