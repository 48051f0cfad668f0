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
        crate::send_async::tag_request_id(&mut request);
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
            if let BatchEntry::Call(request) = entry {
                crate::send_async::tag_request_id(request);
            }
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

/// geth answers unparsable JSON with `parse error`; jsonrpsee builds its own `Parse error`
/// response before any RPC middleware runs, so this HTTP layer rewrites that one short body.
#[derive(Debug, Clone, Copy, Default)]
pub struct GethParseErrorLayer;

impl<S> tower::Layer<S> for GethParseErrorLayer {
    type Service = GethParseError<S>;

    fn layer(&self, service: S) -> Self::Service {
        GethParseError { service }
    }
}

/// The service of [`GethParseErrorLayer`].
#[derive(Debug, Clone)]
pub struct GethParseError<S> {
    service: S,
}

/// jsonrpsee's parse-error response is 75 bytes; anything longer is never rewritten.
const MAX_REWRITTEN: u64 = 160;
const JSONRPSEE_PARSE_ERROR: &[u8] = br#""code":-32700,"message":"Parse error""#;
const GETH_PARSE_ERROR: &[u8] = br#""code":-32700,"message":"parse error""#;

fn rewrite_parse_error(body: Vec<u8>) -> Vec<u8> {
    let Some(at) =
        body.windows(JSONRPSEE_PARSE_ERROR.len()).position(|w| w == JSONRPSEE_PARSE_ERROR)
    else {
        return body;
    };
    let mut out = Vec::with_capacity(body.len());
    out.extend_from_slice(&body[..at]);
    out.extend_from_slice(GETH_PARSE_ERROR);
    out.extend_from_slice(&body[at + JSONRPSEE_PARSE_ERROR.len()..]);
    out
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Reads a (short) body to the end.
async fn collect<B: hyper::body::Body>(body: B) -> Result<Vec<u8>, B::Error> {
    use hyper::body::Buf;
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        if let Some(data) = frame?.data_ref() {
            out.extend_from_slice(data.chunk());
        }
    }
    Ok(out)
}

impl<S, Req, B> tower::Service<Req> for GethParseError<S>
where
    S: tower::Service<Req, Response = jsonrpsee::server::HttpResponse<B>, Error = BoxError>,
    S::Future: Send + 'static,
    B: hyper::body::Body<Data = hyper::body::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = jsonrpsee::server::HttpResponse;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let response = self.service.call(request);
        Box::pin(async move {
            let (parts, body) = response.await?.into_parts();
            let short = body.size_hint().exact().is_some_and(|n| n > 0 && n <= MAX_REWRITTEN);
            let body = if short {
                let bytes = collect(body).await.map_err(Into::into)?;
                jsonrpsee::server::HttpBody::from(rewrite_parse_error(bytes))
            } else {
                jsonrpsee::server::HttpBody::new(body)
            };
            Ok(jsonrpsee::server::HttpResponse::from_parts(parts, body))
        })
    }
}
