//! Middleware that answers unknown or disabled methods with geth's message
//! (`the method X does not exist/is not available`), in single calls and in batches.
//!
//! The request is renamed to an internal method that returns that error; its name travels as
//! the parameter. Everything else passes through untouched.

use std::{borrow::Cow, collections::HashSet, sync::Arc};

use jsonrpsee::{
    core::middleware::{Batch, BatchEntry, Notification, RpcServiceT},
    types::Request,
};
use serde_json::value::RawValue;

/// The internal method unknown calls are routed to.
pub(crate) const UNKNOWN_METHOD: &str = "qrs_unknownMethod";

/// The layer.
#[derive(Debug, Clone)]
pub struct UnknownMethodLayer {
    known: Arc<HashSet<String>>,
}

impl UnknownMethodLayer {
    /// Routes methods missing from `known` to the geth-style error.
    pub fn new(known: HashSet<String>) -> Self {
        Self { known: Arc::new(known) }
    }
}

impl<S> tower::Layer<S> for UnknownMethodLayer {
    type Service = UnknownMethod<S>;

    fn layer(&self, service: S) -> Self::Service {
        UnknownMethod { service, known: self.known.clone() }
    }
}

/// The service.
#[derive(Debug, Clone)]
pub struct UnknownMethod<S> {
    service: S,
    known: Arc<HashSet<String>>,
}

fn redirect_params(method: &str) -> Option<Cow<'static, RawValue>> {
    let json = serde_json::to_string(&[method]).ok()?;
    RawValue::from_string(json).ok().map(Cow::Owned)
}

impl<S> RpcServiceT for UnknownMethod<S>
where
    S: RpcServiceT + Send + Sync + Clone + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        mut request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        if !self.known.contains(request.method_name()) {
            request.params = redirect_params(request.method_name());
            request.method = Cow::Borrowed(UNKNOWN_METHOD);
        }
        self.service.call(request)
    }

    fn batch<'a>(
        &self,
        mut batch: Batch<'a>,
    ) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        for entry in batch.iter_mut().flatten() {
            if let BatchEntry::Call(request) = entry
                && !self.known.contains(request.method_name())
            {
                request.params = redirect_params(request.method_name());
                request.method = Cow::Borrowed(UNKNOWN_METHOD);
            }
        }
        self.service.batch(batch)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.service.notification(n)
    }
}
