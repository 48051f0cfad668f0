//! The metrics server: geth's `/debug/metrics/prometheus` (Prometheus text) and
//! `/debug/metrics` (JSON) on each `--metrics` address.
//!
//! Hot-path metrics (chain timers, RPC, PTM, p2p bytes, QBFT) live in the process-wide
//! registry ([`qrs_metrics::global`]); values that are cheap to read when scraped (head,
//! pool, peers, database size, `/proc`) go into this node's own registry just before each
//! render, so nothing is polled between scrapes.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    Json, Router,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use eyre::WrapErr;
use qrs_chain::Chain;
use qrs_metrics::{Registry, render, system::ProcessSampler};
use qrs_network::NetworkHandle;
use tokio::sync::watch;

/// What a scrape reads.
#[derive(Debug)]
pub(crate) struct Sources {
    pub chain: Chain,
    pub network: Option<NetworkHandle>,
    pub chaindata: PathBuf,
    registry: Registry,
    sampler: ProcessSampler,
}

impl Sources {
    pub(crate) fn new(chain: Chain, network: Option<NetworkHandle>, chaindata: PathBuf) -> Self {
        Self {
            chain,
            network,
            chaindata,
            registry: Registry::new(),
            sampler: ProcessSampler::new(),
        }
    }

    /// Sets the scrape-time gauges (geth's names; see docs/design/metrics.md).
    fn refresh(&self) {
        let r = &self.registry;
        r.gauge("chain/head/block").set_u64(self.chain.head().header.number);
        let p = self.chain.pool().metrics();
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        r.gauge("txpool/pending").set_u64(count(p.pending));
        r.gauge("txpool/queued").set_u64(count(p.queued));
        r.gauge("txpool/local").set_u64(count(p.local));
        for (name, v) in [
            ("txpool/valid", p.valid),
            ("txpool/invalid", p.invalid),
            ("txpool/known", p.known),
            ("txpool/underpriced", p.replace_underpriced),
            ("txpool/overflowed", p.overflowed),
            ("txpool/pending/replace", p.replaced),
            ("txpool/pending/discard", p.evicted),
            ("txpool/pending/nofunds", p.nofunds),
            ("txpool/pending/ratelimit", 0),
            ("txpool/queued/eviction", p.expired),
        ] {
            r.gauge(name).set_u64(v);
        }
        let peers = self.network.as_ref().map_or(0, NetworkHandle::num_connected_peers);
        r.gauge("p2p/peers").set_u64(count(peers));
        r.gauge("eth/db/chaindata/disk/size")
            .set_u64(qrs_metrics::system::dir_size(&self.chaindata));
        self.sampler.update(r);
    }

    fn prometheus(&self) -> String {
        self.refresh();
        render::render_prometheus(&[qrs_metrics::global(), &self.registry])
    }

    fn json(&self) -> serde_json::Value {
        self.refresh();
        render::render_json(&[qrs_metrics::global(), &self.registry])
    }
}

async fn prometheus(State(s): State<Arc<Sources>>) -> Response {
    let body = tokio::task::spawn_blocking(move || s.prometheus()).await.unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

async fn json(State(s): State<Arc<Sources>>) -> Response {
    match tokio::task::spawn_blocking(move || s.json()).await {
        Ok(v) => Json(v).into_response(),
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Series of the process-wide registry that are created on first use: registered up front so
/// a scrape (and a dashboard) sees every name from the start, at 0.
const COUNTERS: [&str; 6] =
    ["rpc/requests", "rpc/success", "rpc/failure", "p2p/ingress", "p2p/egress", "ptm/unreachable"];
const TIMERS: [&str; 5] = [
    "chain/execution",
    "chain/validation",
    "chain/write",
    "chain/private/execution",
    "rpc/duration/all",
];
const GAUGES: [&str; 2] =
    ["consensus/istanbul/qbft/core/round", "consensus/istanbul/qbft/core/sequence"];

fn register_names() {
    let g = qrs_metrics::global();
    for name in COUNTERS {
        g.counter(name);
    }
    for name in TIMERS {
        g.timer(name);
    }
    for name in GAUGES {
        g.gauge(name);
    }
}

/// Binds every address and serves until `shutdown`; returns the bound addresses.
pub(crate) async fn serve(
    addrs: &[SocketAddr],
    sources: Arc<Sources>,
    shutdown: &watch::Receiver<bool>,
) -> eyre::Result<Vec<SocketAddr>> {
    register_names();
    let router = Router::new()
        .route("/debug/metrics/prometheus", get(prometheus))
        .route("/debug/metrics", get(json))
        .with_state(sources);
    let mut bound = Vec::new();
    for addr in addrs {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .wrap_err_with(|| format!("binding the metrics server to {addr}"))?;
        let local = listener.local_addr()?;
        bound.push(local);
        let mut stop = shutdown.clone();
        let app = router.clone();
        tokio::spawn(async move {
            let stopped = async move {
                while !*stop.borrow() {
                    if stop.changed().await.is_err() {
                        return;
                    }
                }
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
                tracing::warn!(target: "metrics", %e, "metrics server stopped");
            }
        });
        tracing::info!(target: "metrics", addr = %local, "metrics server started");
    }
    Ok(bound)
}

/// `--emitcheckpoints` for blocks: `TX-ACCEPTED` for each transaction of a new head, then
/// `BLOCK-CREATED` (GoQuorum prints these when Raft applies a block; qnode does so for
/// every engine).
pub(crate) fn spawn_block_checkpoints(chain: &Chain, mut shutdown: watch::Receiver<bool>) {
    let mut events = chain.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Ok(qrs_chain::ChainEvent::NewBlock(b)) => {
                        for tx in &b.block.transactions {
                            qrs_metrics::checkpoint::tx_accepted(tx.tx_hash());
                        }
                        qrs_metrics::checkpoint::block_created(
                            alloy_primitives::hex::encode(b.block.hash),
                        );
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                },
                _ = shutdown.changed() => return,
            }
        }
    });
}
