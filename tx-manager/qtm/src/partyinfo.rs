//! Tessera's binary PartyInfo format (the `POST /partyinfo` body and response).
//!
//! Layout (big-endian, Tessera `PartyInfoParser`):
//! ```text
//! field(url UTF-8)
//! i64be(nRecipients) then n × ( field(pubkey) field(url UTF-8) )
//! i64be(nParties)    then n × field(url UTF-8)
//! ```
//! where `field(b) = i64be(len(b)) || b`. Decoding never trusts a declared length or count
//! beyond the bytes that are actually present, so arbitrary input cannot make it allocate
//! more than the input size or panic.

use thiserror::Error;

/// One `(key, url)` claim inside a PartyInfo message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartyRecipient {
    /// Raw public key bytes (32 bytes for NaCl, but the format is length-generic).
    pub key: Vec<u8>,
    /// URL of the node that holds this key.
    pub url: String,
}

/// A decoded PartyInfo message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartyInfoMessage {
    /// URL of the sending node.
    pub url: String,
    /// Keys the sender claims, each with the URL that holds it.
    pub recipients: Vec<PartyRecipient>,
    /// Every node URL the sender knows.
    pub parties: Vec<String>,
}

/// Why a PartyInfo body could not be decoded.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PartyInfoDecodeError {
    /// The input ended before a length prefix or its bytes.
    #[error("PartyInfo truncated while reading {what} at byte {offset}")]
    Truncated {
        /// Which element was being read.
        what: &'static str,
        /// Offset of the element.
        offset: usize,
    },
    /// A length or count was negative or larger than the remaining input.
    #[error("PartyInfo {what} length {len} at byte {offset} is invalid ({remaining} bytes remain)")]
    BadLength {
        /// Which element was being read.
        what: &'static str,
        /// The declared length.
        len: i64,
        /// Offset of the length prefix.
        offset: usize,
        /// Bytes left after the prefix.
        remaining: usize,
    },
    /// A URL was not valid UTF-8.
    #[error("PartyInfo {what} at byte {offset} is not valid UTF-8")]
    NotUtf8 {
        /// Which element was being read.
        what: &'static str,
        /// Offset of the element.
        offset: usize,
    },
    /// Bytes were left over after the parties list.
    #[error("PartyInfo has {0} trailing bytes")]
    TrailingBytes(usize),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, PartyInfoDecodeError> {
        let offset = self.pos;
        let end = offset.checked_add(8).filter(|end| *end <= self.buf.len());
        let bytes = end
            .and_then(|end| self.buf.get(offset..end))
            .ok_or(PartyInfoDecodeError::Truncated { what, offset })?;
        let mut arr = [0u8; 8];
        arr.copy_from_slice(bytes);
        self.pos = offset.saturating_add(8);
        Ok(i64::from_be_bytes(arr))
    }

    /// Reads a count and checks that `count * min_entry_size` bytes could still follow.
    fn count(
        &mut self,
        what: &'static str,
        min_entry_size: usize,
    ) -> Result<usize, PartyInfoDecodeError> {
        let offset = self.pos;
        let len = self.i64(what)?;
        let remaining = self.remaining();
        let bad = PartyInfoDecodeError::BadLength { what, len, offset, remaining };
        let count = usize::try_from(len).map_err(|_| bad.clone())?;
        match count.checked_mul(min_entry_size) {
            Some(needed) if needed <= remaining => Ok(count),
            _ => Err(bad),
        }
    }

    fn field(&mut self, what: &'static str) -> Result<&'a [u8], PartyInfoDecodeError> {
        let offset = self.pos;
        let len = self.i64(what)?;
        let remaining = self.remaining();
        let bad = PartyInfoDecodeError::BadLength { what, len, offset, remaining };
        let len = usize::try_from(len).map_err(|_| bad.clone())?;
        if len > remaining {
            return Err(bad);
        }
        let start = self.pos;
        let bytes = start
            .checked_add(len)
            .and_then(|end| self.buf.get(start..end))
            .ok_or(PartyInfoDecodeError::Truncated { what, offset: start })?;
        self.pos = start.saturating_add(len);
        Ok(bytes)
    }

    fn string(&mut self, what: &'static str) -> Result<String, PartyInfoDecodeError> {
        let offset = self.pos;
        let bytes = self.field(what)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| PartyInfoDecodeError::NotUtf8 { what, offset })
    }
}

impl PartyInfoMessage {
    /// Decodes Tessera's binary PartyInfo.
    pub fn decode(bytes: &[u8]) -> Result<Self, PartyInfoDecodeError> {
        let mut r = Reader { buf: bytes, pos: 0 };
        let url = r.string("url")?;
        // Each recipient needs at least two 8-byte length prefixes.
        let n_recipients = r.count("recipient count", 16)?;
        let mut recipients = Vec::with_capacity(n_recipients);
        for _ in 0..n_recipients {
            let key = r.field("recipient key")?.to_vec();
            let url = r.string("recipient url")?;
            recipients.push(PartyRecipient { key, url });
        }
        let n_parties = r.count("party count", 8)?;
        let mut parties = Vec::with_capacity(n_parties);
        for _ in 0..n_parties {
            parties.push(r.string("party url")?);
        }
        match r.remaining() {
            0 => Ok(Self { url, recipients, parties }),
            n => Err(PartyInfoDecodeError::TrailingBytes(n)),
        }
    }

    /// Encodes to Tessera's binary PartyInfo.
    pub fn encode(&self) -> Vec<u8> {
        fn put_len(out: &mut Vec<u8>, len: usize) {
            // Lengths of in-memory buffers always fit in i64 on supported targets.
            let len = i64::try_from(len).unwrap_or(i64::MAX);
            out.extend_from_slice(&len.to_be_bytes());
        }
        fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
            put_len(out, bytes.len());
            out.extend_from_slice(bytes);
        }
        let mut out = Vec::with_capacity(64);
        put_field(&mut out, self.url.as_bytes());
        put_len(&mut out, self.recipients.len());
        for r in &self.recipients {
            put_field(&mut out, &r.key);
            put_field(&mut out, r.url.as_bytes());
        }
        put_len(&mut out, self.parties.len());
        for p in &self.parties {
            put_field(&mut out, p.as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_tessera_layout() {
        let msg = PartyInfoMessage {
            url: "http://a/".into(),
            recipients: vec![PartyRecipient { key: vec![7; 32], url: "http://a/".into() }],
            parties: vec!["http://b/".into()],
        };
        let bytes = msg.encode();
        let mut expected = Vec::new();
        expected.extend_from_slice(&9i64.to_be_bytes());
        expected.extend_from_slice(b"http://a/");
        expected.extend_from_slice(&1i64.to_be_bytes());
        expected.extend_from_slice(&32i64.to_be_bytes());
        expected.extend_from_slice(&[7; 32]);
        expected.extend_from_slice(&9i64.to_be_bytes());
        expected.extend_from_slice(b"http://a/");
        expected.extend_from_slice(&1i64.to_be_bytes());
        expected.extend_from_slice(&9i64.to_be_bytes());
        expected.extend_from_slice(b"http://b/");
        assert_eq!(bytes, expected);
        assert_eq!(PartyInfoMessage::decode(&bytes), Ok(msg));
    }

    #[test]
    fn rejects_huge_counts_and_lengths() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0i64.to_be_bytes());
        bytes.extend_from_slice(&i64::MAX.to_be_bytes());
        assert!(matches!(
            PartyInfoMessage::decode(&bytes),
            Err(PartyInfoDecodeError::BadLength { what: "recipient count", .. })
        ));
        let neg = (-1i64).to_be_bytes();
        assert!(matches!(
            PartyInfoMessage::decode(&neg),
            Err(PartyInfoDecodeError::BadLength { what: "url", .. })
        ));
        assert!(matches!(
            PartyInfoMessage::decode(&[0, 0, 0]),
            Err(PartyInfoDecodeError::Truncated { what: "url", offset: 0 })
        ));
    }

    #[test]
    fn rejects_trailing_bytes_and_bad_utf8() {
        let mut bytes = PartyInfoMessage::default().encode();
        bytes.push(1);
        assert_eq!(PartyInfoMessage::decode(&bytes), Err(PartyInfoDecodeError::TrailingBytes(1)));
        let mut bad = Vec::new();
        bad.extend_from_slice(&1i64.to_be_bytes());
        bad.push(0xff);
        assert!(matches!(
            PartyInfoMessage::decode(&bad),
            Err(PartyInfoDecodeError::NotUtf8 { .. })
        ));
    }

    fn message() -> impl Strategy<Value = PartyInfoMessage> {
        let recipient = (proptest::collection::vec(any::<u8>(), 0..40), ".{0,30}")
            .prop_map(|(key, url)| PartyRecipient { key, url });
        (
            ".{0,40}",
            proptest::collection::vec(recipient, 0..6),
            proptest::collection::vec(".{0,30}", 0..6),
        )
            .prop_map(|(url, recipients, parties)| PartyInfoMessage {
                url,
                recipients,
                parties,
            })
    }

    proptest! {
        #[test]
        fn roundtrip(msg in message()) {
            prop_assert_eq!(PartyInfoMessage::decode(&msg.encode()), Ok(msg));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = PartyInfoMessage::decode(&bytes);
        }

        #[test]
        fn truncations_are_errors(msg in message(), cut in any::<prop::sample::Index>()) {
            let bytes = msg.encode();
            let cut = cut.index(bytes.len());
            prop_assert!(PartyInfoMessage::decode(&bytes[..cut]).is_err());
        }
    }
}
