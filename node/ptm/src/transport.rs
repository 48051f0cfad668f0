//! One HTTP request to the TM, over TCP (reqwest, pooled, optional TLS) or a unix socket (one
//! hyper HTTP/1 connection per request: local sockets are cheap to open).

use std::{path::PathBuf, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::{PtmConfig, PtmEndpoint, PtmError, TlsFiles};

/// A TM response: status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

impl Reply {
    /// The body as text, truncated for error messages.
    pub(crate) fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(300) {
            Some((i, _)) => format!("{}…", &text[..i]),
            None => text.to_string(),
        }
    }
}

/// The request method.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method {
    Get,
    Post,
}

#[derive(Debug, Clone)]
pub(crate) enum Transport {
    Http { client: reqwest::Client, base: String },
    Unix { path: PathBuf, timeout: Duration, dial_timeout: Duration },
}

impl Transport {
    pub(crate) fn new(config: &PtmConfig) -> Result<Self, PtmError> {
        match &config.endpoint {
            PtmEndpoint::Http(url) => {
                let mut builder = reqwest::Client::builder()
                    .connect_timeout(config.dial_timeout)
                    .user_agent(concat!("quorum-v", env!("CARGO_PKG_VERSION"), "-qnode"))
                    .pool_idle_timeout(Duration::from_secs(10));
                if !config.timeout.is_zero() {
                    builder = builder.timeout(config.timeout);
                }
                builder = with_tls(builder, &config.tls)?;
                let client = builder
                    .build()
                    .map_err(|e| PtmError::Config(format!("building the HTTP client: {e}")))?;
                Ok(Self::Http { client, base: url.as_str().trim_end_matches('/').to_string() })
            }
            PtmEndpoint::Unix(path) => Ok(Self::Unix {
                path: path.clone(),
                timeout: config.timeout,
                dial_timeout: config.dial_timeout,
            }),
        }
    }

    fn endpoint(&self) -> String {
        match self {
            Transport::Http { base, .. } => base.clone(),
            Transport::Unix { path, .. } => format!("unix:{}", path.display()),
        }
    }

    /// Sends one request; `path` includes the query.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        media: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, PtmError> {
        let unreachable =
            |reason: String| PtmError::Unreachable { endpoint: self.endpoint(), reason };
        match self {
            Transport::Http { client, base } => {
                let url = format!("{base}{path}");
                let mut req = match method {
                    Method::Get => client.get(&url),
                    Method::Post => client.post(&url),
                };
                req = req.header("Accept", media);
                if let Some(body) = body {
                    req = req.header("Content-Type", media).body(body);
                }
                let resp = req.send().await.map_err(|e| unreachable(error_chain(&e)))?;
                let status = resp.status().as_u16();
                let body = resp.bytes().await.map_err(|e| unreachable(error_chain(&e)))?;
                Ok(Reply { status, body })
            }
            Transport::Unix { path: socket, timeout, dial_timeout } => {
                let fut = unix_call(socket, *dial_timeout, method, path, media, body);
                let result = if timeout.is_zero() {
                    fut.await
                } else {
                    tokio::time::timeout(*timeout, fut)
                        .await
                        .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
                };
                result.map_err(unreachable)
            }
        }
    }
}

async fn unix_call(
    socket: &PathBuf,
    dial_timeout: Duration,
    method: Method,
    path: &str,
    media: &str,
    body: Option<Vec<u8>>,
) -> Result<Reply, String> {
    let stream = tokio::time::timeout(dial_timeout, tokio::net::UnixStream::connect(socket))
        .await
        .map_err(|_| format!("connect timed out after {dial_timeout:?}"))?
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(target: "ptm::transport", error = %e, "unix connection closed with an error");
        }
    });
    let method = match method {
        Method::Get => hyper::Method::GET,
        Method::Post => hyper::Method::POST,
    };
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("Host", "localhost")
        .header("Accept", media);
    if body.is_some() {
        builder = builder.header("Content-Type", media);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    driver.abort();
    Ok(Reply { status, body })
}

fn with_tls(
    mut builder: reqwest::ClientBuilder,
    tls: &TlsFiles,
) -> Result<reqwest::ClientBuilder, PtmError> {
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|e| PtmError::Config(format!("reading {}: {e}", p.display())))
    };
    if let Some(ca) = &tls.root_ca {
        for cert in reqwest::Certificate::from_pem_bundle(&read(ca)?)
            .map_err(|e| PtmError::Config(format!("{}: {e}", ca.display())))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let mut pem = read(cert)?;
            pem.push(b'\n');
            pem.extend(read(key)?);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|e| PtmError::Config(format!("client certificate/key: {e}")))?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => {
            return Err(PtmError::Config(
                "TLS client certificate and key must be given together".into(),
            ));
        }
    }
    if tls.insecure_skip_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
