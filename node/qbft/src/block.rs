//! The block a QBFT round agrees on, kept opaque to the state machine.
//!
//! The core only needs a block's istanbul hash, number, header and its RLP form for the wire.
//! [`Proposal`] is that seam; [`RawBlock`] is a ready implementation holding a header plus the
//! raw RLP of the transaction and uncle lists, i.e. Go's `types.Block` encoding
//! `rlp([header, txs, uncles])`.

use alloy_consensus::Header;
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{BufMut, Decodable, Encodable, Error as RlpError};

use crate::{
    header::istanbul_block_hash,
    rlp_util::{finish, list_payload, raw_item},
};

/// A proposed block as the core sees it.
pub trait Proposal: Clone + std::fmt::Debug + PartialEq + Encodable + Decodable {
    /// The istanbul block hash (seals and round excluded).
    fn hash(&self) -> B256;
    /// The block's header.
    fn header(&self) -> &Header;
    /// The block number.
    fn number(&self) -> u64 {
        self.header().number
    }
    /// True when the block carries no transactions (for `emptyblockperiodseconds`).
    fn is_empty(&self) -> bool;
}

/// A header plus the raw RLP lists of transactions and uncles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    header: Header,
    transactions: Bytes,
    uncles: Bytes,
    hash: B256,
}

const EMPTY_LIST: [u8; 1] = [alloy_rlp::EMPTY_LIST_CODE];

impl RawBlock {
    /// A block without transactions or uncles.
    pub fn empty(header: Header) -> Self {
        Self::from_parts(header, Bytes::from_static(&EMPTY_LIST), Bytes::from_static(&EMPTY_LIST))
    }

    /// A block from its header and the encoded transaction list (an RLP list, e.g. `0xc0`).
    /// The list bytes are written to the wire as given.
    pub fn with_transactions(header: Header, transactions_rlp_list: Bytes) -> Self {
        Self::from_parts(header, transactions_rlp_list, Bytes::from_static(&EMPTY_LIST))
    }

    fn from_parts(header: Header, transactions: Bytes, uncles: Bytes) -> Self {
        let hash = istanbul_block_hash(&header);
        Self { header, transactions, uncles, hash }
    }

    /// The raw RLP list of transactions.
    pub fn transactions_rlp(&self) -> &Bytes {
        &self.transactions
    }

    /// Replaces the header (e.g. after writing committed seals) and recomputes the hash.
    pub fn with_header(&self, header: Header) -> Self {
        Self::from_parts(header, self.transactions.clone(), self.uncles.clone())
    }
}

impl Proposal for RawBlock {
    fn hash(&self) -> B256 {
        self.hash
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn is_empty(&self) -> bool {
        self.transactions.as_ref() == EMPTY_LIST
    }
}

impl RawBlock {
    fn payload_len(&self) -> usize {
        self.header
            .length()
            .saturating_add(self.transactions.len())
            .saturating_add(self.uncles.len())
    }
}

impl Encodable for RawBlock {
    fn encode(&self, out: &mut dyn BufMut) {
        alloy_rlp::Header { list: true, payload_length: self.payload_len() }.encode(out);
        self.header.encode(out);
        out.put_slice(&self.transactions);
        out.put_slice(&self.uncles);
    }
    fn length(&self) -> usize {
        let p = self.payload_len();
        p.saturating_add(alloy_rlp::length_of_length(p))
    }
}

impl Decodable for RawBlock {
    fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut p = list_payload(buf)?;
        let header = Header::decode(&mut p)?;
        let txs = raw_item(&mut p)?;
        let uncles = raw_item(&mut p)?;
        // Both must be lists; their items are left to the node to decode.
        for item in [txs, uncles] {
            let mut probe = item;
            list_payload(&mut probe)?;
        }
        finish(p)?;
        Ok(Self::from_parts(header, Bytes::copy_from_slice(txs), Bytes::copy_from_slice(uncles)))
    }
}
