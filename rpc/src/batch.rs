//! JSON-RPC batches whose slow, independent entries run concurrently.
//!
//! jsonrpsee answers a batch one entry after another. An `eth_sendRawPrivateTransaction` waits
//! for its transaction manager (`/sendsignedtx`: encrypt, push to the recipients' TMs, store),
//! so a client that submits private transactions in batches was capped by that latency, not by
//! the node's CPU. Here a run of consecutive entries of a method listed in [`CONCURRENT`] is
//! executed up to [`MAX_IN_FLIGHT`] at a time; every other entry runs alone, in order, after
//! everything before it has finished. Responses keep the batch's order.
//!
//! Entries of the same run may reach the pool out of order. For transactions of one sender that
//! is harmless: a later nonce waits in the queue (64 per sender, more than [`MAX_IN_FLIGHT`])
//! until the earlier one arrives.

use futures::{StreamExt as _, stream};
use jsonrpsee::{
    MethodResponse,
    core::{
        middleware::{Batch, BatchEntry, Notification, RpcServiceT},
        server::BatchResponseBuilder,
    },
    types::Request,
};

/// Methods whose consecutive batch entries run concurrently.
pub(crate) const CONCURRENT: [&str; 1] = ["eth_sendRawPrivateTransaction"];

/// Entries of one run in flight at once.
pub(crate) const MAX_IN_FLIGHT: usize = 16;

/// The layer; `max_response_bytes` bounds a batch's answer as the server's own limit does.
#[derive(Debug, Clone, Copy)]
pub struct ConcurrentBatchLayer {
    max_response_bytes: usize,
}

impl ConcurrentBatchLayer {
    /// A layer answering batches of at most `max_response_bytes`.
    pub fn new(max_response_bytes: u32) -> Self {
        Self { max_response_bytes: max_response_bytes as usize }
    }
}

impl<S> tower::Layer<S> for ConcurrentBatchLayer {
    type Service = ConcurrentBatch<S>;

    fn layer(&self, service: S) -> Self::Service {
        ConcurrentBatch { service, max_response_bytes: self.max_response_bytes }
    }
}

/// The service.
#[derive(Debug, Clone)]
pub struct ConcurrentBatch<S> {
    service: S,
    max_response_bytes: usize,
}

/// One step of a batch: a lone entry, or a run of concurrent calls.
enum Step<'a> {
    Call(Request<'a>),
    Notification(Notification<'a>),
    Invalid(MethodResponse),
    Run(Vec<Request<'a>>),
}

fn steps(batch: Batch<'_>) -> Vec<Step<'_>> {
    let mut steps: Vec<Step<'_>> = Vec::new();
    for entry in batch.into_iter() {
        match entry {
            Ok(BatchEntry::Call(req)) if CONCURRENT.contains(&req.method_name()) => {
                match steps.last_mut() {
                    Some(Step::Run(run))
                        if run.first().map(|r| r.method_name()) == Some(req.method_name()) =>
                    {
                        run.push(req)
                    }
                    _ => steps.push(Step::Run(vec![req])),
                }
            }
            Ok(BatchEntry::Call(req)) => steps.push(Step::Call(req)),
            Ok(BatchEntry::Notification(n)) => steps.push(Step::Notification(n)),
            Err(err) => {
                let (err, id) = err.into_parts();
                steps.push(Step::Invalid(MethodResponse::error(id, err)));
            }
        }
    }
    steps
}

impl<S> RpcServiceT for ConcurrentBatch<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            NotificationResponse = MethodResponse,
            BatchResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.service.call(request)
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let service = self.service.clone();
        let limit = self.max_response_bytes;
        async move {
            let mut answer = BatchResponseBuilder::new_with_limit(limit);
            let mut got_notification = false;
            for step in steps(batch) {
                let responses = match step {
                    Step::Call(req) => vec![service.call(req).await],
                    Step::Invalid(response) => vec![response],
                    Step::Notification(n) => {
                        got_notification = true;
                        service.notification(n).await;
                        Vec::new()
                    }
                    Step::Run(run) => {
                        // (a loop, not a closure: the closure's lifetimes do not generalise)
                        let mut calls = Vec::with_capacity(run.len());
                        for req in run {
                            calls.push(service.call(req));
                        }
                        stream::iter(calls).buffered(MAX_IN_FLIGHT).collect().await
                    }
                };
                for response in responses {
                    if let Err(too_big) = answer.append(response) {
                        return too_big;
                    }
                }
            }
            // as jsonrpsee's own batch: an empty answer is an invalid request, unless the batch
            // held only notifications
            if answer.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(answer.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.service.notification(n)
    }
}
