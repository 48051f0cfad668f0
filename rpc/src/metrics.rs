//! geth's RPC metrics (`rpc/requests`, `rpc/success`, `rpc/failure`, `rpc/duration/all`) as an
//! RPC middleware: every call, including each call of a batch and unknown methods, counts.
//! Recording is a few atomic adds per call (handles kept in statics).

use std::{
    sync::{Arc, LazyLock},
    time::Instant,
};

use jsonrpsee::{
    core::middleware::{Batch, BatchEntry, Notification, RpcServiceT},
    server::MethodResponse,
    types::Request,
};
use qrs_metrics::{Counter, Timer};

struct RpcMeters {
    requests: Arc<Counter>,
    success: Arc<Counter>,
    failure: Arc<Counter>,
    duration: Arc<Timer>,
}

static METERS: LazyLock<RpcMeters> = LazyLock::new(|| RpcMeters {
    requests: qrs_metrics::counter("rpc/requests"),
    success: qrs_metrics::counter("rpc/success"),
    failure: qrs_metrics::counter("rpc/failure"),
    duration: qrs_metrics::timer("rpc/duration/all"),
});

/// Counts the error objects in a batch response (`[{..}, {..,"error":..}]`).
fn batch_failures(json: &str) -> u64 {
    #[derive(serde::Deserialize)]
    struct Entry {
        error: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Vec<Entry>>(json)
        .map(|v| v.iter().filter(|e| e.error.is_some()).count() as u64)
        .unwrap_or(0)
}

/// The layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpcMetricsLayer;

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, service: S) -> Self::Service {
        RpcMetrics { service }
    }
}

/// The service of [`RpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct RpcMetrics<S> {
    service: S,
}

impl<S> RpcServiceT for RpcMetrics<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse, BatchResponse = MethodResponse>
        + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        let service = self.service.clone();
        async move {
            let m = &*METERS;
            m.requests.inc();
            let start = Instant::now();
            let response = service.call(request).await;
            m.duration.record_since(start);
            if response.is_success() {
                m.success.inc()
            } else {
                m.failure.inc()
            }
            response
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        let service = self.service.clone();
        async move {
            let m = &*METERS;
            let calls =
                batch.iter().filter(|e| matches!(e, Ok(BatchEntry::Call(_)))).count() as u64;
            m.requests.add(calls);
            let start = Instant::now();
            let response = service.batch(batch).await;
            m.duration.record_since(start);
            let failed = batch_failures(response.as_json().get()).min(calls);
            m.failure.add(failed);
            m.success.add(calls - failed);
            response
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.service.notification(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_failures_counts_error_objects() {
        let json = r#"[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"x"}}]"#;
        assert_eq!(batch_failures(json), 1);
        assert_eq!(batch_failures("not json"), 0);
    }
}
