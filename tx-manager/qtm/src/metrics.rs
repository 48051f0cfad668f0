//! qtm's Prometheus metrics, served at `/metrics` on the P2P server (where Tessera serves its
//! own and the quickstart's Prometheus scrapes `memberNtessera:9000/metrics`).
//!
//! - `qtm_requests{app,endpoint}`, `qtm_request_errors{app,endpoint}` (status ≥ 400) and the
//!   timer `qtm_request_duration{app,endpoint}` (nanoseconds, as geth's timers) for every
//!   routed request; `endpoint` is the route template (`/transaction/{*rest}`), so the label
//!   set stays small;
//! - `qtm_payloads_stored` (successful `/send`, `/sendraw`, `/storeraw`) and
//!   `qtm_payloads_received` (payloads of successful `/push` and `/pushBatch` from peers);
//! - gauges read when scraped: `qtm_peers_known` (URLs in the party store),
//!   `qtm_peers_reachable` (nodes that answered PartyInfo), `qtm_keys_known`.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use qrs_metrics::Registry;

use crate::discovery::Discovery;

/// One qtm's registry.
#[derive(Debug, Default)]
pub struct QtmMetrics {
    registry: Registry,
}

/// The middleware's state: the registry and the server it runs in.
#[derive(Debug, Clone)]
pub struct Track {
    /// The registry.
    pub metrics: Arc<QtmMetrics>,
    /// Tessera's app name (`Q2T`, `P2P`, `ThirdParty`).
    pub app: &'static str,
}

const STORES: [&str; 3] = ["/send", "/sendraw", "/storeraw"];
const RECEIVES: [&str; 2] = ["/push", "/pushBatch"];

/// A response extension: how many payloads the request carried (`/pushBatch`); one if absent.
#[derive(Debug, Clone, Copy)]
pub struct PayloadCount(pub u64);

impl QtmMetrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn observe(
        &self,
        app: &str,
        endpoint: &str,
        method: &Method,
        response: &Response,
        started: Instant,
    ) {
        let status = response.status().as_u16();
        let r = &self.registry;
        let labels = [("app", app), ("endpoint", endpoint)];
        r.counter_with("qtm/requests", &labels).inc();
        r.timer_with("qtm/request/duration", &labels).record_since(started);
        if status >= 400 {
            r.counter_with("qtm/request/errors", &labels).inc();
            return;
        }
        if *method == Method::POST && STORES.contains(&endpoint) && app != "P2P" {
            r.counter("qtm/payloads/stored").inc();
        }
        if *method == Method::POST && RECEIVES.contains(&endpoint) && app == "P2P" {
            let payloads = response.extensions().get::<PayloadCount>().map_or(1, |c| c.0);
            r.counter("qtm/payloads/received").add(payloads);
        }
    }

    /// The Prometheus text, with the peer gauges read from `discovery` now.
    pub fn render(&self, discovery: &Discovery) -> String {
        let r = &self.registry;
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        r.gauge("qtm/peers/known").set_u64(n(discovery.parties().len()));
        r.gauge("qtm/peers/reachable").set_u64(n(discovery.active_urls().len()));
        r.gauge("qtm/keys/known").set_u64(n(discovery.all_keys().len()));
        r.counter("qtm/payloads/stored");
        r.counter("qtm/payloads/received");
        r.render_prometheus()
    }
}

/// Route middleware: counts and times each request of a matched route.
pub async fn track(State(t): State<Track>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    t.metrics.observe(t.app, &endpoint, &method, &response, started);
    response
}

/// `GET /metrics`.
pub fn response(metrics: &QtmMetrics, discovery: &Discovery) -> Response {
    let body = metrics.render(discovery);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
