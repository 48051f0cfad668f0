//! [`spawn`]: starts the sync tasks.

use std::{borrow::Cow, collections::HashMap, sync::Arc};

use parking_lot::RwLock;
use qrs_chain::{Chain, ChainEvent};
use qrs_consensus::SharedVerifier;
use qrs_network::{NetworkEvent, NetworkHandle, PeerId, PenaltyReason, Topic};
use tokio::sync::{broadcast::error::RecvError, mpsc, watch};

use crate::{
    SyncConfig,
    blocks::{Importer, Job},
    codec::{decode_header, encode_block},
    gossip,
    recent::RecentBlocks,
    status::{StatusCell, SyncHandle},
};

/// Starts block sync, block announcements and transaction gossip over `network` with default
/// settings. Everything stops when `shutdown` turns true.
pub fn spawn(
    chain: Chain,
    network: NetworkHandle,
    verifier: SharedVerifier,
    shutdown: watch::Receiver<bool>,
) -> SyncHandle {
    spawn_with(SyncConfig::default(), chain, network, verifier, shutdown)
}

/// [`spawn`] with explicit settings.
pub fn spawn_with(
    config: SyncConfig,
    chain: Chain,
    network: NetworkHandle,
    verifier: SharedVerifier,
    shutdown: watch::Receiver<bool>,
) -> SyncHandle {
    let cell = Arc::new(RwLock::new(StatusCell::default()));
    let imported = Arc::new(RecentBlocks::default());
    // subscribe before anything can happen, so no event or commit is missed
    let block_events = network.events();
    let tx_events = network.events();
    let commits = chain.subscribe();
    let (jobs_tx, jobs_rx) = mpsc::channel(config.job_queue);
    // peer arrivals and departures never wait behind a full announcement queue
    let (peer_jobs_tx, peer_jobs_rx) = mpsc::unbounded_channel();
    let (peers_tx, peers_rx) = mpsc::unbounded_channel();

    let importer = Importer {
        chain: chain.clone(),
        network: network.clone(),
        verifier,
        config: config.clone(),
        cell: cell.clone(),
        imported: imported.clone(),
        genesis: chain.spec().genesis_hash(),
        shutdown: shutdown.clone(),
        peers: HashMap::new(),
    };
    let tasks = vec![
        tokio::spawn(importer.run(jobs_rx, peer_jobs_rx)),
        tokio::spawn(dispatch(
            chain.clone(),
            network.clone(),
            block_events,
            jobs_tx,
            peer_jobs_tx,
            peers_tx,
            shutdown.clone(),
        )),
        tokio::spawn(announce(network.clone(), commits, imported, shutdown.clone())),
        tokio::spawn(gossip::receive_txs(
            chain.clone(),
            network.clone(),
            tx_events,
            shutdown.clone(),
        )),
        tokio::spawn(gossip::send_local_txs(chain.clone(), network, config, peers_rx, shutdown)),
    ];
    SyncHandle { chain, cell, tasks: Arc::new(parking_lot::Mutex::new(tasks)) }
}

/// Drains the network's events quickly (a slow receiver would stall the peers' streams) and
/// hands block work to the importer.
async fn dispatch(
    chain: Chain,
    network: NetworkHandle,
    mut events: mpsc::Receiver<NetworkEvent>,
    jobs: mpsc::Sender<Job>,
    peer_jobs: mpsc::UnboundedSender<Job>,
    new_peers: mpsc::UnboundedSender<PeerId>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let event = tokio::select! {
            _ = shutdown.changed() => return,
            event = events.recv() => event,
        };
        let job = match event {
            None => return,
            Some(NetworkEvent::PeerConnected(peer)) => {
                let _ = new_peers.send(peer);
                Job::PeerUp(peer)
            }
            Some(NetworkEvent::PeerDisconnected(peer)) => Job::PeerDown(peer),
            Some(NetworkEvent::Message { from, topic: Topic::BlockAnnounce, bytes }) => {
                let header = match decode_header(&bytes) {
                    Ok(h) => h,
                    Err(e) => {
                        let reason = format!("malformed block announcement: {e}");
                        tracing::warn!(target: "sync", peer = %from, %reason, "penalising peer");
                        network.penalise(from, PenaltyReason::Application(Cow::Owned(reason)));
                        continue;
                    }
                };
                // known (or older) blocks are dropped here, without decoding the transactions
                if header.number <= chain.head().header.number {
                    continue;
                }
                let job = Job::Announced { peer: from, header: Box::new(header), bytes };
                // a full queue drops the announcement: the importer's status poll recovers
                if jobs.try_send(job).is_err() {
                    tracing::debug!(target: "sync", "importer busy; announcement dropped");
                }
                continue;
            }
            Some(_) => continue,
        };
        if peer_jobs.send(job).is_err() {
            return;
        }
    }
}

/// Announces every block this node commits itself (not those imported from peers: in a full
/// mesh every peer already got them from their origin) with the full block.
async fn announce(
    network: NetworkHandle,
    mut commits: tokio::sync::broadcast::Receiver<ChainEvent>,
    imported: Arc<RecentBlocks>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let event = tokio::select! {
            _ = shutdown.changed() => return,
            event = commits.recv() => event,
        };
        match event {
            Ok(ChainEvent::NewBlock(committed)) => {
                let block = &committed.block;
                if imported.take(block.header.number) {
                    continue;
                }
                let bytes = encode_block(block);
                match network.broadcast(Topic::BlockAnnounce, bytes) {
                    Ok(peers) => {
                        tracing::trace!(target: "sync", number = block.header.number, peers, "announced block")
                    }
                    Err(e) => tracing::warn!(target: "sync", number = block.header.number, %e,
                        "could not announce block (peers fetch it by range sync)"),
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(target: "sync", missed, "announcer fell behind; peers catch up by range sync");
            }
            Err(RecvError::Closed) => return,
        }
    }
}
