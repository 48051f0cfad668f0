//! Catching up to a Raft snapshot: a follower that receives a snapshot (it was down while the
//! leader compacted its log, or it just joined) downloads the blocks up to the snapshot's head
//! from the members with `Blocks` range requests, checks each one's Raft seal and re-executes it
//! (GoQuorum does the same over devp2p with `BoundedFullSync`). The Raft engine also answers
//! those requests when the node has no other request handler ([`answer`]).

use std::time::{Duration, Instant};

use alloy_primitives::B256;
use bytes::Bytes;
use qrs_chain::Chain;
use qrs_network::{NetworkHandle, PeerId, Request, Response, Status};

use super::{
    adapter::chain_contains,
    block::{check_raft_header, decode_block, encode_block},
    members::Members,
};

/// Blocks asked for per request.
const BATCH: u32 = 128;
/// How long catching up may keep retrying before the node gives up (and stops).
const SYNC_DEADLINE: Duration = Duration::from_secs(120);

/// Downloads blocks for [`super::adapter::LogChain::sync_to`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub(crate) network: NetworkHandle,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) raft_id: u16,
}

impl Fetcher {
    /// Imports blocks from members until `target` is in `chain`. Runs on the driver thread
    /// (not a runtime worker), so it may block on the network.
    pub fn sync_to(&self, chain: &Chain, members: &Members, target: &B256) -> Result<(), String> {
        let started = Instant::now();
        let mut last_error = String::from("no member to download from");
        while started.elapsed() < SYNC_DEADLINE {
            if chain_contains(chain, target) {
                return Ok(());
            }
            let leader = members.status().leader;
            // Every member this node knows of (a node that just joined knows its static nodes
            // before the snapshot's membership is published), the leader first.
            let mut candidates: Vec<(u16, PeerId)> =
                members.known_peers().into_iter().filter(|(id, _)| *id != self.raft_id).collect();
            candidates.sort_by_key(|(id, _)| (*id != leader, *id));
            for (_, peer) in candidates {
                match self.download_from(chain, members, peer, target) {
                    Ok(true) => return Ok(()),
                    Ok(false) => last_error = format!("{peer} does not have the block"),
                    Err(e) => last_error = e,
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(last_error)
    }

    /// Downloads from one peer until `target` is imported (`true`) or the peer has no more.
    fn download_from(
        &self,
        chain: &Chain,
        members: &Members,
        peer: PeerId,
        target: &B256,
    ) -> Result<bool, String> {
        loop {
            let from = chain.head().header.number.saturating_add(1);
            let request = Request::Blocks { from, count: BATCH };
            let response = self
                .runtime
                .block_on(self.network.request(peer, request))
                .map_err(|e| e.to_string())?;
            let Response::Blocks(blocks) = response else {
                return Err(format!("{peer} answered a Blocks request with something else"));
            };
            if blocks.is_empty() {
                return Ok(false);
            }
            for bytes in blocks {
                let block = decode_block(&bytes).map_err(|e| e.to_string())?;
                check_raft_header(&block.header, |id| members.known_key(id))
                    .map_err(|e| format!("block {} from {peer}: {e}", block.header.number))?;
                let hash = block.hash;
                match chain.import_block(block.header, block.transactions) {
                    Ok(()) => {}
                    // Block sync imported it meanwhile.
                    Err(_) if chain_contains(chain, &hash) => {}
                    Err(e) => return Err(format!("importing from {peer}: {e}")),
                }
                if hash == *target {
                    tracing::info!(target: "consensus::raft", %hash, "caught up with the raft snapshot head");
                    return Ok(true);
                }
            }
        }
    }
}

/// Answers a peer's `Status` / `Blocks` request from the chain (blocks RLP-encoded as in the
/// Raft log). Reads the database: call on a blocking thread.
pub fn answer(chain: &Chain, request: &Request, max_blocks: u32) -> Response {
    match request {
        Request::Status => {
            let head = chain.head();
            let genesis_hash = chain
                .reader()
                .ok()
                .and_then(|r| r.canonical_hash(0).ok().flatten())
                .unwrap_or_default();
            Response::Status(Status {
                head_number: head.header.number,
                head_hash: head.hash,
                genesis_hash,
            })
        }
        Request::Blocks { from, count } => {
            let mut out = Vec::new();
            if let Ok(reader) = chain.reader() {
                let count = u64::from((*count).min(max_blocks));
                for n in *from..from.saturating_add(count) {
                    match reader.block(n) {
                        Ok(Some(b)) => {
                            out.push(Bytes::from(encode_block(&b.header, &b.transactions)))
                        }
                        _ => break,
                    }
                }
            }
            Response::Blocks(out)
        }
    }
}
