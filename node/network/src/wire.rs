//! Wire formats. Everything here decodes untrusted bytes and never panics.
//!
//! * Message frames on the long-lived message stream: `topic: u8 ‖ len: u32 BE ‖ payload`.
//! * Requests / responses on a fresh stream each: `len: u32 BE ‖ body` (see [`Request`], [`Response`]).
//! * Transaction batches (payload of [`Topic::Transactions`]): `count: u32 ‖ (len: u32 ‖ tx)*`.

use alloy_primitives::B256;
use bytes::{BufMut, Bytes, BytesMut};

/// Length of a message frame header.
pub const FRAME_HEADER_LEN: usize = 5;

/// Why bytes from the wire were rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Unknown topic byte.
    #[error("unknown topic {0}")]
    UnknownTopic(u8),
    /// Unknown request/response tag.
    #[error("unknown tag {0}")]
    UnknownTag(u8),
    /// Fewer bytes than the format needs.
    #[error("truncated input")]
    Truncated,
    /// Bytes left over after a complete value.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// A length field exceeds the configured limit.
    #[error("length {size} exceeds limit {limit}")]
    TooLarge {
        /// Announced length.
        size: usize,
        /// Limit.
        limit: usize,
    },
}

/// Broadcast / direct message topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A batch of raw transactions (see [`encode_tx_batch`]). Never one message per transaction.
    Transactions,
    /// QBFT / IBFT consensus messages.
    Consensus,
    /// New block announcements.
    BlockAnnounce,
    /// Raft messages (raft-rs protobuf `Message`s between cluster members; `--raft`).
    Raft,
}

impl Topic {
    /// All topics.
    pub const ALL: [Topic; 4] =
        [Topic::Transactions, Topic::Consensus, Topic::BlockAnnounce, Topic::Raft];

    /// The wire byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Topic::Transactions => 1,
            Topic::Consensus => 2,
            Topic::BlockAnnounce => 3,
            Topic::Raft => 4,
        }
    }

    /// Parses the wire byte.
    pub fn from_byte(b: u8) -> Result<Self, WireError> {
        match b {
            1 => Ok(Topic::Transactions),
            2 => Ok(Topic::Consensus),
            3 => Ok(Topic::BlockAnnounce),
            4 => Ok(Topic::Raft),
            other => Err(WireError::UnknownTopic(other)),
        }
    }
}

/// Encodes a frame header for `payload_len` bytes of `topic`.
pub fn encode_frame_header(topic: Topic, payload_len: u32) -> [u8; FRAME_HEADER_LEN] {
    let l = payload_len.to_be_bytes();
    [topic.to_byte(), l[0], l[1], l[2], l[3]]
}

/// Decodes a frame header, enforcing `max_payload`.
pub fn decode_frame_header(
    header: &[u8; FRAME_HEADER_LEN],
    max_payload: usize,
) -> Result<(Topic, usize), WireError> {
    let [t, a, b, c, d] = *header;
    let topic = Topic::from_byte(t)?;
    let size = u32::from_be_bytes([a, b, c, d]) as usize;
    if size > max_payload {
        return Err(WireError::TooLarge { size, limit: max_payload });
    }
    Ok((topic, size))
}

/// A request to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The peer's chain status.
    Status,
    /// `count` block bodies starting at number `from`.
    Blocks {
        /// First block number.
        from: u64,
        /// Number of blocks.
        count: u32,
    },
}

/// Chain status of a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// Head block number.
    pub head_number: u64,
    /// Head block hash.
    pub head_hash: B256,
    /// Genesis block hash.
    pub genesis_hash: B256,
}

/// A response to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Answer to [`Request::Status`].
    Status(Status),
    /// Answer to [`Request::Blocks`]: opaque encoded blocks, in order, possibly fewer than asked.
    Blocks(Vec<Bytes>),
}

const TAG_STATUS: u8 = 0;
const TAG_BLOCKS: u8 = 1;

impl Request {
    /// Encodes the request body.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(13);
        match self {
            Request::Status => out.put_u8(TAG_STATUS),
            Request::Blocks { from, count } => {
                out.put_u8(TAG_BLOCKS);
                out.put_u64(*from);
                out.put_u32(*count);
            }
        }
        out.freeze()
    }

    /// Decodes a request body.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader(bytes);
        let req = match r.u8()? {
            TAG_STATUS => Request::Status,
            TAG_BLOCKS => Request::Blocks { from: r.u64()?, count: r.u32()? },
            other => return Err(WireError::UnknownTag(other)),
        };
        r.finish()?;
        Ok(req)
    }
}

impl Response {
    /// Encodes the response body.
    pub fn encode(&self) -> Bytes {
        match self {
            Response::Status(s) => {
                let mut out = BytesMut::with_capacity(73);
                out.put_u8(TAG_STATUS);
                out.put_u64(s.head_number);
                out.put_slice(s.head_hash.as_slice());
                out.put_slice(s.genesis_hash.as_slice());
                out.freeze()
            }
            Response::Blocks(blocks) => {
                let mut out = BytesMut::with_capacity(1 + encoded_list_len(blocks));
                out.put_u8(TAG_BLOCKS);
                put_list(&mut out, blocks);
                out.freeze()
            }
        }
    }

    /// Decodes a response body (zero-copy for block bodies).
    pub fn decode(bytes: Bytes) -> Result<Self, WireError> {
        let tag = *bytes.first().ok_or(WireError::Truncated)?;
        let body = bytes.slice(1..);
        match tag {
            TAG_STATUS => {
                let mut r = Reader(&body);
                let head_number = r.u64()?;
                let head_hash = B256::from_slice(r.take(32)?);
                let genesis_hash = B256::from_slice(r.take(32)?);
                r.finish()?;
                Ok(Response::Status(Status { head_number, head_hash, genesis_hash }))
            }
            TAG_BLOCKS => Ok(Response::Blocks(decode_list(body)?)),
            other => Err(WireError::UnknownTag(other)),
        }
    }
}

/// Encodes many raw transactions into one [`Topic::Transactions`] payload.
pub fn encode_tx_batch(txs: &[Bytes]) -> Bytes {
    let mut out = BytesMut::with_capacity(encoded_list_len(txs));
    put_list(&mut out, txs);
    out.freeze()
}

/// Decodes a [`Topic::Transactions`] payload; the transactions share the payload's buffer.
pub fn decode_tx_batch(payload: Bytes) -> Result<Vec<Bytes>, WireError> {
    decode_list(payload)
}

fn encoded_list_len(items: &[Bytes]) -> usize {
    4 + items.iter().map(|i| 4 + i.len()).sum::<usize>()
}

fn put_list(out: &mut BytesMut, items: &[Bytes]) {
    out.put_u32(u32::try_from(items.len()).unwrap_or(u32::MAX));
    for item in items {
        out.put_u32(u32::try_from(item.len()).unwrap_or(u32::MAX));
        out.put_slice(item);
    }
}

fn decode_list(bytes: Bytes) -> Result<Vec<Bytes>, WireError> {
    let mut r = Reader(&bytes);
    let count = r.u32()? as usize;
    // Each item needs at least 4 bytes: bound the allocation by the input, not by the claim.
    if count > r.0.len() / 4 {
        return Err(WireError::Truncated);
    }
    let mut items = Vec::with_capacity(count);
    let mut offset = 4usize;
    for _ in 0..count {
        let len = r.u32()? as usize;
        r.take(len)?;
        let start = offset.saturating_add(4);
        let end = start.saturating_add(len);
        items.push(bytes.slice(start..end));
        offset = end;
    }
    r.finish()?;
    Ok(items)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(*self.take(1)?.first().ok_or(WireError::Truncated)?)
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }
    fn finish(self) -> Result<(), WireError> {
        if self.0.is_empty() { Ok(()) } else { Err(WireError::Trailing(self.0.len())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Request::decode(&data);
            let _ = Response::decode(Bytes::from(data.clone()));
            let _ = decode_tx_batch(Bytes::from(data.clone()));
            if data.len() >= FRAME_HEADER_LEN {
                let mut h = [0u8; FRAME_HEADER_LEN];
                h.copy_from_slice(&data[..FRAME_HEADER_LEN]);
                let _ = decode_frame_header(&h, 1024);
            }
        }

        #[test]
        fn tx_batch_roundtrip(txs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..32)) {
            let txs: Vec<Bytes> = txs.into_iter().map(Bytes::from).collect();
            prop_assert_eq!(decode_tx_batch(encode_tx_batch(&txs)).unwrap(), txs.clone());
            let resp = Response::Blocks(txs);
            prop_assert_eq!(Response::decode(resp.encode()).unwrap(), resp);
        }

        #[test]
        fn request_status_roundtrip(from in any::<u64>(), count in any::<u32>(), n in any::<u64>(), h in any::<[u8; 32]>(), g in any::<[u8; 32]>()) {
            let req = Request::Blocks { from, count };
            prop_assert_eq!(Request::decode(&req.encode()).unwrap(), req);
            prop_assert_eq!(Request::decode(&Request::Status.encode()).unwrap(), Request::Status);
            let resp = Response::Status(Status { head_number: n, head_hash: B256::from(h), genesis_hash: B256::from(g) });
            prop_assert_eq!(Response::decode(resp.encode()).unwrap(), resp);
        }

        #[test]
        fn frame_header_roundtrip(len in any::<u32>(), t in 0usize..Topic::ALL.len()) {
            let topic = Topic::ALL[t];
            let h = encode_frame_header(topic, len);
            let limit = usize::MAX;
            prop_assert_eq!(decode_frame_header(&h, limit).unwrap(), (topic, len as usize));
        }
    }

    #[test]
    fn limits_enforced() {
        let h = encode_frame_header(Topic::Consensus, 1025);
        assert_eq!(
            decode_frame_header(&h, 1024),
            Err(WireError::TooLarge { size: 1025, limit: 1024 })
        );
        assert_eq!(decode_frame_header(&[9, 0, 0, 0, 0], 1024), Err(WireError::UnknownTopic(9)));
        assert_eq!(decode_frame_header(&[5, 0, 0, 0, 0], 1024), Err(WireError::UnknownTopic(5)));
        for topic in Topic::ALL {
            assert_eq!(Topic::from_byte(topic.to_byte()), Ok(topic));
        }
        assert_eq!(Topic::Raft.to_byte(), 4);
        // A count claiming 2^32-1 items in 4 bytes must not allocate.
        assert_eq!(
            decode_tx_batch(Bytes::from_static(&[255, 255, 255, 255])),
            Err(WireError::Truncated)
        );
    }
}
