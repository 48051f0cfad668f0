//! The block importer: announced blocks that extend the head, and range sync from peers that
//! are ahead. One task, so imports are strictly sequential.

use std::{borrow::Cow, collections::HashMap, sync::Arc};

use alloy_consensus::Header;
use alloy_primitives::B256;
use bytes::Bytes;
use parking_lot::RwLock;
use qrs_chain::{Chain, ChainError};
use qrs_consensus::SharedVerifier;
use qrs_network::{NetworkHandle, PeerId, PenaltyReason, Request, Response};
use tokio::sync::{mpsc, watch};

use crate::{
    SyncConfig,
    codec::{WireBlock, decode_block},
    recent::RecentBlocks,
    status::StatusCell,
};

/// Work for the importer.
#[derive(Debug)]
pub(crate) enum Job {
    /// A peer announced a block above our head.
    Announced { peer: PeerId, header: Box<Header>, bytes: Bytes },
    /// A peer connected: ask for its status.
    PeerUp(PeerId),
    /// A peer disconnected.
    PeerDown(PeerId),
}

/// What importing one block did.
enum Outcome {
    Imported,
    /// The block does not extend our head (a race with another import, or another chain).
    NotOnHead,
    /// The block is invalid: the sender is penalised.
    Bad(String),
    /// A local failure (storage): nobody's fault, stop this round.
    Local(String),
}

pub(crate) struct Importer {
    pub chain: Chain,
    pub network: NetworkHandle,
    pub verifier: SharedVerifier,
    pub config: SyncConfig,
    pub cell: Arc<RwLock<StatusCell>>,
    pub imported: Arc<RecentBlocks>,
    pub genesis: B256,
    pub shutdown: watch::Receiver<bool>,
    /// The head each peer has reported or announced.
    pub peers: HashMap<PeerId, u64>,
}

impl Importer {
    pub(crate) async fn run(
        mut self,
        mut jobs: mpsc::Receiver<Job>,
        mut peer_jobs: mpsc::UnboundedReceiver<Job>,
    ) {
        let mut poll = tokio::time::interval(self.config.status_poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_head = self.chain.head().header.number;
        let mut shutdown = self.shutdown.clone();
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                job = peer_jobs.recv() => match job {
                    None => return,
                    Some(job) => self.handle(job).await,
                },
                job = jobs.recv() => match job {
                    None => return,
                    Some(job) => self.handle(job).await,
                },
                _ = poll.tick() => {
                    // nothing arrived since the last poll: ask every peer where it is, so a lost
                    // or oversized announcement cannot leave us behind
                    let head = self.chain.head().header.number;
                    if head == last_head {
                        for peer in self.network.peers() {
                            self.ask_status(peer.peer_id).await;
                        }
                        self.sync().await;
                    }
                    last_head = head;
                }
            }
            if *self.shutdown.borrow() {
                return;
            }
        }
    }

    async fn handle(&mut self, job: Job) {
        match job {
            Job::PeerUp(peer) => {
                self.ask_status(peer).await;
                self.sync().await;
            }
            Job::PeerDown(peer) => {
                self.peers.remove(&peer);
            }
            Job::Announced { peer, header, bytes } => {
                let head = self.chain.head();
                if header.number <= head.header.number {
                    return;
                }
                self.note(peer, header.number);
                if header.number != head.header.number.saturating_add(1)
                    || header.parent_hash != head.hash
                {
                    self.sync().await;
                    return;
                }
                match decode_block(&bytes) {
                    Err(e) => self.penalise(peer, format!("malformed announced block: {e}")),
                    Ok(block) => {
                        if let Outcome::Bad(reason) = self.import(block).await {
                            self.penalise(peer, reason);
                        }
                    }
                }
            }
        }
    }

    /// Requests `peer`'s status and records its head (if it is on our chain).
    async fn ask_status(&mut self, peer: PeerId) {
        match self.network.request(peer, Request::Status).await {
            Ok(Response::Status(s)) if s.genesis_hash == self.genesis => {
                self.note(peer, s.head_number);
            }
            Ok(Response::Status(s)) => {
                tracing::warn!(target: "sync", %peer, theirs = %s.genesis_hash, ours = %self.genesis,
                    "peer has another genesis; not syncing from it");
                self.peers.remove(&peer);
            }
            Ok(other) => {
                self.penalise(peer, format!("answered Status with {other:?}"));
            }
            Err(e) => tracing::debug!(target: "sync", %peer, %e, "status request failed"),
        }
    }

    fn note(&mut self, peer: PeerId, head: u64) {
        let known = self.peers.entry(peer).or_default();
        *known = (*known).max(head);
        let mut cell = self.cell.write();
        cell.highest_block = cell.highest_block.max(head);
    }

    fn penalise(&mut self, peer: PeerId, reason: String) {
        tracing::warn!(target: "sync", %peer, %reason, "penalising peer");
        self.peers.remove(&peer);
        self.network.penalise(peer, PenaltyReason::Application(Cow::Owned(reason)));
    }

    fn set_syncing(&self, on: bool) {
        let mut cell = self.cell.write();
        if on && !cell.syncing {
            cell.starting_block = self.chain.head().header.number;
        }
        cell.syncing = on;
    }

    /// Fetches and imports blocks while a peer reports a head above ours.
    async fn sync(&mut self) {
        loop {
            if *self.shutdown.borrow() {
                break;
            }
            let head = self.chain.head();
            let ours = head.header.number;
            let Some((&peer, &theirs)) =
                self.peers.iter().filter(|&(_, &n)| n > ours).max_by_key(|&(_, &n)| n)
            else {
                break;
            };
            self.set_syncing(true);
            let count = u32::try_from(theirs.saturating_sub(ours))
                .unwrap_or(u32::MAX)
                .min(self.config.blocks_per_request);
            let from = ours.saturating_add(1);
            tracing::debug!(target: "sync", %peer, from, count, theirs, "requesting blocks");
            let blocks = match self.network.request(peer, Request::Blocks { from, count }).await {
                Ok(Response::Blocks(blocks)) => blocks,
                Ok(other) => {
                    self.penalise(peer, format!("answered Blocks with {other:?}"));
                    continue;
                }
                Err(e) => {
                    // try another peer; this one comes back with its next status or announcement
                    tracing::debug!(target: "sync", %peer, %e, "block request failed");
                    self.peers.remove(&peer);
                    continue;
                }
            };
            if blocks.is_empty() {
                // it claimed more than it serves: stop asking it until it reports again
                self.peers.insert(peer, ours);
                continue;
            }
            if !self.import_range(peer, blocks).await {
                break;
            }
        }
        self.set_syncing(false);
    }

    /// Imports a peer's consecutive blocks. False on a local failure (stop syncing for now).
    async fn import_range(&mut self, peer: PeerId, blocks: Vec<Bytes>) -> bool {
        for bytes in blocks {
            let block = match decode_block(&bytes) {
                Ok(b) => b,
                Err(e) => {
                    self.penalise(peer, format!("malformed block in range response: {e}"));
                    return true;
                }
            };
            let number = block.header.number;
            match self.import(block).await {
                Outcome::Imported => {}
                Outcome::NotOnHead => {
                    // another chain (or a race with an announcement): do not insist on this peer
                    tracing::debug!(target: "sync", %peer, number, "range block does not extend our head");
                    self.peers.insert(peer, self.chain.head().header.number);
                    return true;
                }
                Outcome::Bad(reason) => {
                    self.penalise(peer, reason);
                    return true;
                }
                Outcome::Local(e) => {
                    tracing::error!(target: "sync", %e, number, "could not import block");
                    return false;
                }
            }
        }
        true
    }

    /// Verifies (engine rules) and imports (execution, roots) one block on a blocking thread.
    async fn import(&self, block: WireBlock) -> Outcome {
        let chain = self.chain.clone();
        let verifier = self.verifier.clone();
        let imported = self.imported.clone();
        let task = tokio::task::spawn_blocking(move || {
            let head = chain.head();
            let header = block.header;
            if header.parent_hash != head.hash
                || header.number != head.header.number.saturating_add(1)
            {
                return Outcome::NotOnHead;
            }
            if let Err(reason) = verifier.verify_header(&chain, &header) {
                return Outcome::Bad(format!("block {} rejected: {reason}", header.number));
            }
            let number = header.number;
            // remembered before the commit event fires, so it is not announced again
            imported.insert(number);
            match chain.import_block(header, block.body.transactions) {
                Ok(()) => {
                    tracing::debug!(target: "sync", number, "imported block");
                    Outcome::Imported
                }
                Err(e @ ChainError::InvalidBlock { .. }) => Outcome::Bad(e.to_string()),
                Err(ChainError::NotOnHead { .. }) => Outcome::NotOnHead,
                Err(e) => Outcome::Local(e.to_string()),
            }
        });
        task.await.unwrap_or_else(|e| Outcome::Local(format!("import task failed: {e}")))
    }
}
