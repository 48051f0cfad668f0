//! [`ChainRequestHandler`]: answers peers' `Status` and `Blocks` requests from the chain.

use std::sync::Arc;

use alloy_primitives::B256;
use bytes::Bytes;
use parking_lot::RwLock;
use qrs_chain::Chain;
use qrs_network::{RequestHandler, Status};

use crate::codec::encode_block;

/// Serves our chain to peers. Installed as the network's
/// [`NetworkConfig::request_handler`](qrs_network::NetworkConfig).
///
/// Clones share one chain slot: [`ChainRequestHandler::close`] releases the chain handle even
/// while the network still holds the handler (the node calls it on shutdown, so the database
/// can be reopened in the same process).
#[derive(Debug, Clone)]
pub struct ChainRequestHandler {
    chain: Arc<RwLock<Option<Chain>>>,
    genesis_hash: B256,
    max_response_bytes: usize,
}

impl ChainRequestHandler {
    /// Serves `chain`; a `Blocks` answer stops before it exceeds `max_response_bytes` (use the
    /// network's `max_response_bytes`; the first block is always included).
    pub fn new(chain: Chain, max_response_bytes: usize) -> Self {
        let genesis_hash = chain.spec().genesis_hash();
        Self { chain: Arc::new(RwLock::new(Some(chain))), genesis_hash, max_response_bytes }
    }

    /// Drops the chain handle; afterwards requests get an empty answer.
    pub fn close(&self) {
        self.chain.write().take();
    }

    fn chain(&self) -> Option<Chain> {
        self.chain.read().clone()
    }
}

impl RequestHandler for ChainRequestHandler {
    fn status(&self) -> Status {
        let Some(chain) = self.chain() else {
            return Status { genesis_hash: self.genesis_hash, ..Status::default() };
        };
        let head = chain.head();
        Status {
            head_number: head.header.number,
            head_hash: head.hash,
            genesis_hash: self.genesis_hash,
        }
    }

    fn blocks(&self, from: u64, count: u32) -> Vec<Bytes> {
        let Some(chain) = self.chain() else { return Vec::new() };
        let reader = match chain.reader() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(target: "sync::serve", %e, "cannot read the chain");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        // 1 byte of tag, 4 of list count, 4 of length per block
        let mut size = 5usize;
        for number in (from..).take(count as usize) {
            let block = match reader.block(number) {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(target: "sync::serve", %e, number, "cannot read block");
                    break;
                }
            };
            let bytes = encode_block(&block);
            size = size.saturating_add(bytes.len()).saturating_add(4);
            if size > self.max_response_bytes && !out.is_empty() {
                break;
            }
            out.push(bytes);
        }
        out
    }
}
