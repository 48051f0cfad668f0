//! Pushes to other nodes, coalesced per peer under load.
//!
//! Every send pushes its payload to each remote recipient's node. At a few hundred sends per
//! second that is one HTTP request per push, each answered only after the peer's store commit.
//! [`PushQueue`] keeps, per peer URL, at most [`WORKERS_PER_PEER`] requests in flight. A push that
//! finds a free worker goes out at once as a plain `POST /push`, so an idle network sees no
//! extra latency. Pushes that arrive while every worker is busy wait, and the next free worker
//! carries all of them (up to [`MAX_BATCH`] payloads, [`MAX_BATCH_BYTES`]) in one
//! `POST /pushBatch`, which the peer stores with one group commit.
//!
//! Every push still gets its own outcome:
//! - the batch is answered 2xx: every push in it succeeded;
//! - the peer is unreachable: every push in it fails with that error, as each would have;
//! - any other answer: the batch is re-sent as single `/push` requests, so a payload the peer
//!   refuses fails alone, with the peer's own status and reason. A peer that does not serve
//!   `/pushBatch` outside recovery (Tessera answers 404 or 405) is only sent single pushes from
//!   then on.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use futures::future::join_all;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::client::{PeerClient, PeerError};

/// Requests in flight to one peer at a time.
pub const WORKERS_PER_PEER: usize = 2;
/// Most payloads carried by one `/pushBatch`.
pub const MAX_BATCH: usize = 64;
/// Most payload bytes carried by one `/pushBatch` (before base64); a larger payload goes alone.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

type Outcome = Result<(), PeerError>;

#[derive(Debug)]
struct Pending {
    body: Vec<u8>,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Debug, Default)]
struct PeerState {
    workers: usize,
    waiting: VecDeque<Pending>,
    /// The peer answered `/pushBatch` with 404 or 405: single pushes only.
    no_batch: bool,
}

#[derive(Debug)]
struct Peer {
    url: String,
    state: Mutex<PeerState>,
}

/// Per-peer push queues; cheap to clone.
#[derive(Debug, Clone)]
pub struct PushQueue {
    client: PeerClient,
    peers: Arc<Mutex<HashMap<String, Arc<Peer>>>>,
}

impl PushQueue {
    /// Pushes through `client`.
    pub fn new(client: PeerClient) -> Self {
        Self { client, peers: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Pushes one LEGACY-encoded payload to the node at `url` and waits for its outcome.
    pub async fn push(&self, url: &str, body: Vec<u8>) -> Outcome {
        let peer = self.peer(url);
        let (reply, answer) = oneshot::channel();
        let start_worker = {
            let mut state = peer.state.lock();
            state.waiting.push_back(Pending { body, reply });
            let free = state.workers < WORKERS_PER_PEER;
            if free {
                state.workers += 1;
            }
            free
        };
        if start_worker {
            tokio::spawn(work(self.client.clone(), Arc::clone(&peer)));
        }
        answer.await.unwrap_or_else(|_| {
            Err(PeerError::Protocol { url: url.to_owned(), reason: "push worker stopped".into() })
        })
    }

    fn peer(&self, url: &str) -> Arc<Peer> {
        let mut peers = self.peers.lock();
        Arc::clone(peers.entry(url.to_owned()).or_insert_with(|| {
            Arc::new(Peer { url: url.to_owned(), state: Mutex::new(PeerState::default()) })
        }))
    }
}

/// One worker: sends what is waiting, batch after batch, until the queue is empty.
async fn work(client: PeerClient, peer: Arc<Peer>) {
    loop {
        let (batch, no_batch) = {
            let mut state = peer.state.lock();
            let batch = take_batch(&mut state.waiting);
            if batch.is_empty() {
                state.workers = state.workers.saturating_sub(1);
                return;
            }
            (batch, state.no_batch)
        };
        if batch.len() == 1 || no_batch {
            push_each(&client, &peer.url, batch).await;
            continue;
        }
        let bodies: Vec<Vec<u8>> = batch.iter().map(|p| p.body.clone()).collect();
        match client.push_batch(&peer.url, bodies).await {
            Ok(_) => answer_all(batch, &Ok(())),
            Err(e) if e.is_unreachable() => answer_all(batch, &Err(e)),
            Err(e) => {
                if matches!(e, PeerError::Status { status: 404 | 405, .. }) {
                    peer.state.lock().no_batch = true;
                }
                tracing::debug!(target: "qtm::push", url = %peer.url, %e, size = batch.len(),
                    "a push batch was refused; pushing its payloads one by one");
                push_each(&client, &peer.url, batch).await;
            }
        }
    }
}

/// The oldest waiting pushes that fit one batch (at least one).
fn take_batch(waiting: &mut VecDeque<Pending>) -> Vec<Pending> {
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    while let Some(next) = waiting.front() {
        let size = next.body.len();
        if !batch.is_empty() && (batch.len() >= MAX_BATCH || bytes + size > MAX_BATCH_BYTES) {
            break;
        }
        bytes += size;
        if let Some(next) = waiting.pop_front() {
            batch.push(next);
        }
    }
    batch
}

async fn push_each(client: &PeerClient, url: &str, batch: Vec<Pending>) {
    join_all(batch.into_iter().map(|pending| async move {
        let outcome = client.push(url, pending.body).await.map(|_| ());
        // The sender may have given up waiting; nothing to answer then.
        let _ = pending.reply.send(outcome);
    }))
    .await;
}

fn answer_all(batch: Vec<Pending>, outcome: &Outcome) {
    for pending in batch {
        let _ = pending.reply.send(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use axum::{Router, http::StatusCode, routing::post};
    use futures::future::join_all;

    use super::*;

    fn queue() -> PushQueue {
        PushQueue::new(PeerClient::new(None, Duration::from_secs(10)).expect("client"))
    }

    /// Stands in for a Tessera node outside recovery mode: `/push` answers 201 after a short
    /// delay (so pushes pile up behind the busy workers), `/pushBatch` answers 404.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_peer_without_push_batch_gets_single_pushes_and_every_push_succeeds() {
        let singles = Arc::new(AtomicUsize::new(0));
        let batches = Arc::new(AtomicUsize::new(0));
        let (s, b) = (Arc::clone(&singles), Arc::clone(&batches));
        let app = Router::new()
            .route(
                "/push",
                post(move || async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    s.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::CREATED, "hash")
                }),
            )
            .route(
                "/pushBatch",
                post(move || async move {
                    b.fetch_add(1, Ordering::SeqCst);
                    StatusCode::NOT_FOUND
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });

        let queue = queue();
        let outcomes = join_all((0..40).map(|i| queue.push(&url, vec![i; 10]))).await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        assert_eq!(singles.load(Ordering::SeqCst), 40);
        let tried = batches.load(Ordering::SeqCst);
        assert!((1..=WORKERS_PER_PEER).contains(&tried), "{tried} batches tried");

        // From then on, single pushes only.
        let outcomes = join_all((0..20).map(|i| queue.push(&url, vec![i; 10]))).await;
        assert!(outcomes.iter().all(Result::is_ok));
        assert_eq!(batches.load(Ordering::SeqCst), tried);
        assert_eq!(singles.load(Ordering::SeqCst), 60);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_unreachable_peer_fails_every_push_and_the_queue_drains() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        drop(listener);
        let queue = queue();
        let outcomes = join_all((0..30).map(|i| queue.push(&url, vec![i; 10]))).await;
        assert!(outcomes.iter().all(|o| o.as_ref().is_err_and(PeerError::is_unreachable)));
        // The workers answer before they look for more work: give them a moment to stop.
        let peer = queue.peer(&url);
        for _ in 0..100 {
            if peer.state.lock().workers == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let state = peer.state.lock();
        assert_eq!((state.workers, state.waiting.len()), (0, 0));
    }

    fn pending(len: usize) -> Pending {
        Pending { body: vec![0; len], reply: oneshot::channel().0 }
    }

    #[test]
    fn a_batch_is_capped_by_count_and_bytes_but_never_empty() {
        let mut waiting: VecDeque<Pending> = (0..100).map(|_| pending(10)).collect();
        assert_eq!(take_batch(&mut waiting).len(), MAX_BATCH);
        assert_eq!(take_batch(&mut waiting).len(), 100 - MAX_BATCH);
        assert!(take_batch(&mut waiting).is_empty());

        let mut waiting: VecDeque<Pending> =
            [MAX_BATCH_BYTES + 1, 10, MAX_BATCH_BYTES - 20, 11].into_iter().map(pending).collect();
        assert_eq!(take_batch(&mut waiting).len(), 1, "an oversized payload goes alone");
        assert_eq!(take_batch(&mut waiting).len(), 2, "10 + (MAX - 20) bytes fit");
        assert_eq!(take_batch(&mut waiting).len(), 1);
    }
}
