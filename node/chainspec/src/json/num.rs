//! Number and hex decoding the way geth's genesis types accept them.
//!
//! geth takes block numbers, quantities and balances as JSON numbers or as strings holding
//! either `0x`-hex or decimal (`math.HexOrDecimal64/256`, `*big.Int`). Every helper here reads
//! the raw JSON text of the value, so large JSON numbers keep full precision.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::value::RawValue;

/// The text of a number: the digits of a JSON number, or the contents of a JSON string.
enum NumText {
    /// A bare JSON number literal.
    Literal(String),
    /// A JSON string's contents.
    Quoted(String),
}

fn raw_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NumText>, D::Error> {
    let raw: Option<Box<RawValue>> = Option::deserialize(d)?;
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim();
    if text.starts_with('"') {
        let s: String = serde_json::from_str(text).map_err(D::Error::custom)?;
        Ok(Some(NumText::Quoted(s)))
    } else if text == "null" {
        Ok(None)
    } else {
        Ok(Some(NumText::Literal(text.to_owned())))
    }
}

/// Parses `0x`-hex or decimal text into a `U256`; `None` for anything else.
pub fn parse_u256(text: &str) -> Option<U256> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        U256::from_str_radix(hex, 16).ok()
    } else {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        U256::from_str_radix(t, 10).ok()
    }
}

/// Parses `0x`-hex or decimal text into a `u64`; `None` for anything else or on overflow.
pub fn parse_u64(text: &str) -> Option<u64> {
    parse_u256(text).and_then(|v| u64::try_from(v).ok())
}

fn to_u256<E: serde::de::Error>(text: NumText) -> Result<U256, E> {
    let (s, bare) = match &text {
        NumText::Literal(s) => (s, true),
        NumText::Quoted(s) => (s, false),
    };
    // A bare JSON number must be decimal digits (no sign, fraction or exponent).
    let well_formed = !bare || s.bytes().all(|b| b.is_ascii_digit());
    well_formed.then(|| parse_u256(s)).flatten().ok_or_else(|| {
        E::custom(format!("invalid number {s:?}: want a non-negative integer, decimal or 0x-hex"))
    })
}

/// `Option<u64>` from a JSON number or a hex/decimal string (`null`/absent → `None`).
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match raw_text(d)? {
        None => Ok(None),
        Some(t) => {
            let v = to_u256::<D::Error>(t)?;
            u64::try_from(v)
                .map(Some)
                .map_err(|_| D::Error::custom(format!("number {v} does not fit in 64 bits")))
        }
    }
}

/// `u64` from a JSON number or a hex/decimal string (`null` → 0).
pub fn u64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(opt_u64(d)?.unwrap_or_default())
}

/// `Option<U256>` from a JSON number or a hex/decimal string.
pub fn opt_u256<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
    raw_text(d)?.map(to_u256::<D::Error>).transpose()
}

/// `U256` from a JSON number or a hex/decimal string (`null` → 0).
pub fn u256_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
    Ok(opt_u256(d)?.unwrap_or_default())
}

/// Decodes hex with or without `0x`; an empty string is empty bytes (as geth's `hexutil`).
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    alloy_primitives::hex::decode(t).ok()
}

/// `Bytes` from a hex string (`null`/absent → empty).
pub fn bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(Bytes::new()),
        Some(s) => decode_hex(&s)
            .map(Bytes::from)
            .ok_or_else(|| D::Error::custom(format!("invalid hex bytes {s:?}"))),
    }
}

/// Left-pads hex of at most 32 bytes into a `B256` (geth's genesis `storageJSON` rule).
pub fn parse_b256(text: &str) -> Option<B256> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    if t.len() > 64 {
        return None;
    }
    let padded = format!("{t:0>64}");
    alloy_primitives::hex::decode(padded).ok().map(|v| B256::from_slice(&v))
}

/// `B256` from hex (`null`/absent → zero).
pub fn b256_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<B256, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(B256::ZERO),
        Some(s) => {
            parse_b256(&s).ok_or_else(|| D::Error::custom(format!("invalid 32-byte hex {s:?}")))
        }
    }
}

/// Parses a 20-byte hex address with or without `0x`, in any letter case.
pub fn parse_address(text: &str) -> Option<Address> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    if t.len() != 40 {
        return None;
    }
    alloy_primitives::hex::decode(t).ok().map(|v| Address::from_slice(&v))
}

/// `Option<Address>` from hex.
pub fn opt_address<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| parse_address(&s).ok_or_else(|| D::Error::custom(format!("invalid address {s:?}"))))
        .transpose()
}

/// `Address` from hex (`null`/absent → zero).
pub fn address_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
    Ok(opt_address(d)?.unwrap_or_default())
}

/// `Vec<Address>` from a list of hex strings (`null`/absent → empty).
pub fn addresses<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Address>, D::Error> {
    let list: Option<Vec<String>> = Option::deserialize(d)?;
    list.unwrap_or_default()
        .iter()
        .map(|s| parse_address(s).ok_or_else(|| D::Error::custom(format!("invalid address {s:?}"))))
        .collect()
}
