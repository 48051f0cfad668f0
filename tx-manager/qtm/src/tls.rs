//! TLS for the P2P server and client: rustls with CA-verified mutual TLS from PEM files
//! (`sslConfig` with `tls: STRICT`, trust mode `CA`), and an axum listener that does the TLS
//! handshake off the accept loop.

use std::{fs::File, io::BufReader, net::SocketAddr, sync::Arc, time::Duration};

use rustls::{
    RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer},
    server::WebPkiClientVerifier,
};
use thiserror::Error;
use tokio::{net::TcpListener, sync::mpsc};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

use crate::config::SslConfig;

/// TLS setup failed.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {what} {path}: {source}")]
    Read {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A required setting is missing.
    #[error("sslConfig.{0} is required with tls STRICT")]
    Missing(&'static str),
    /// The PEM file holds no usable item.
    #[error("{what} {path} contains no {item}")]
    Empty {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: String,
        /// What was expected in it.
        item: &'static str,
    },
    /// A trust mode other than CA was configured.
    #[error("trust mode {0:?} is not supported (only CA)")]
    UnsupportedTrustMode(String),
    /// rustls rejected the material.
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built.
    #[error("client certificate verifier: {0}")]
    Verifier(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(what: &'static str, path: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file =
        File::open(path).map_err(|source| TlsError::Read { what, path: path.into(), source })?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Read { what, path: path.into(), source })?;
    if certs.is_empty() {
        return Err(TlsError::Empty { what, path: path.into(), item: "certificate" });
    }
    Ok(certs)
}

fn read_key(what: &'static str, path: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let file =
        File::open(path).map_err(|source| TlsError::Read { what, path: path.into(), source })?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .map_err(|source| TlsError::Read { what, path: path.into(), source })?
        .ok_or(TlsError::Empty { what, path: path.into(), item: "private key" })
}

fn roots(what: &'static str, paths: &[String]) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for path in paths {
        for cert in read_certs(what, path)? {
            store.add(cert)?;
        }
    }
    Ok(store)
}

fn check_trust_mode(mode: Option<&str>) -> Result<(), TlsError> {
    match mode {
        None => Ok(()),
        Some(m) if m.eq_ignore_ascii_case("CA") => Ok(()),
        Some(m) => Err(TlsError::UnsupportedTrustMode(m.into())),
    }
}

/// The server side: certificate + key, and client certificates verified against the trust
/// certificates unless `clientAuth` is false.
pub fn server_config(ssl: &SslConfig) -> Result<rustls::ServerConfig, TlsError> {
    check_trust_mode(ssl.server_trust_mode.as_deref())?;
    let cert_path = ssl
        .server_tls_certificate_path
        .as_deref()
        .ok_or(TlsError::Missing("serverTlsCertificatePath"))?;
    let key_path =
        ssl.server_tls_key_path.as_deref().ok_or(TlsError::Missing("serverTlsKeyPath"))?;
    let certs = read_certs("server certificate", cert_path)?;
    let key = read_key("server key", key_path)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?;
    let builder = if ssl.client_auth.unwrap_or(true) {
        if ssl.server_trust_certificates.is_empty() {
            return Err(TlsError::Missing("serverTrustCertificates"));
        }
        let roots = Arc::new(roots("server trust certificate", &ssl.server_trust_certificates)?);
        let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The client side: trusted CAs, and the client certificate when configured.
pub fn client_config(ssl: &SslConfig) -> Result<rustls::ClientConfig, TlsError> {
    check_trust_mode(ssl.client_trust_mode.as_deref())?;
    if ssl.client_trust_certificates.is_empty() {
        return Err(TlsError::Missing("clientTrustCertificates"));
    }
    let roots = roots("client trust certificate", &ssl.client_trust_certificates)?;
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let config =
        match (ssl.client_tls_certificate_path.as_deref(), ssl.client_tls_key_path.as_deref()) {
            (Some(cert), Some(key)) => builder.with_client_auth_cert(
                read_certs("client certificate", cert)?,
                read_key("client key", key)?,
            )?,
            _ => builder.with_no_client_auth(),
        };
    Ok(config)
}

/// The remote address of a connection, as handler `ConnectInfo` (TCP and TLS servers).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TcpListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TcpListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// An axum listener yielding TLS streams; handshakes run in their own tasks so a slow client
/// cannot block the accept loop.
#[derive(Debug)]
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Wraps a bound TCP listener.
    pub fn new(tcp: TcpListener, config: rustls::ServerConfig) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, addr) = match tcp.accept().await {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(target: "qtm::tls", error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                if tx.is_closed() {
                    break;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, addr)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(target: "qtm::tls", %addr, error = %e, "TLS handshake failed")
                        }
                        Err(_) => {
                            tracing::debug!(target: "qtm::tls", %addr, "TLS handshake timed out")
                        }
                    }
                });
            }
        });
        Ok(Self { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Some(conn) = self.rx.recv().await {
                return conn;
            }
            // The accept task is gone; nothing will ever arrive.
            std::future::pending::<()>().await;
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
