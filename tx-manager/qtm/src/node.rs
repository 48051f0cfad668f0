//! Starting a qtm node from a Tessera config: store, enclave (in-process or remote `qenclave`),
//! discovery, and every configured server (TCP, TLS or unix socket).

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use axum::Router;
use qrs_enclave::{Enclave, EnclaveError, LocalEnclave, RemoteEnclave};
use qrs_tm_store::{StoreError, StoreUrl, StoreUrlError, open_store};
use thiserror::Error;
use tokio::{net::TcpListener, task::JoinSet};

use crate::{
    api::{self, ApiSettings, AppState, MAX_BODY_BYTES, ResidentGroup},
    client::{PeerClient, PeerError},
    config::{AppType, ConfigError, ListenAddress, ServerConfig, TesseraConfig},
    discovery::{Discovery, DiscoveryConfig, normalize_url},
    metrics::{QtmMetrics, Track},
    tls::{self, PeerAddr, TlsError, TlsListener},
    transaction::{TxManager, TxManagerConfig},
};

/// Default PartyInfo broadcast interval (Tessera's is about 5 s).
pub const DEFAULT_PARTY_INFO_INTERVAL: Duration = Duration::from_secs(5);

/// Starting the node failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The enclave part of the config is invalid.
    #[error("enclave configuration: {0}")]
    EnclaveConfig(#[from] qrs_enclave::config::ConfigError),
    /// The JDBC URL is not supported.
    #[error("jdbc.url: {0}")]
    StoreUrl(#[from] StoreUrlError),
    /// The store could not be opened.
    #[error("payload store: {0}")]
    Store(#[from] StoreError),
    /// The enclave failed.
    #[error("enclave: {0}")]
    Enclave(#[from] EnclaveError),
    /// TLS material is invalid.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The peer client could not be built.
    #[error("peer client: {0}")]
    Client(#[from] PeerError),
    /// A server could not bind.
    #[error("cannot bind {app} server on {address}: {source}")]
    Bind {
        /// Which server.
        app: &'static str,
        /// The address.
        address: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A server stopped with an IO error.
    #[error("{app} server failed: {source}")]
    Serve {
        /// Which server.
        app: &'static str,
        /// The IO error.
        source: std::io::Error,
    },
    /// The `residentGroups` section is invalid.
    #[error("residentGroups: {0}")]
    ResidentGroups(serde_json::Error),
}

/// A server that is listening.
#[derive(Debug, Clone)]
pub struct BoundServer {
    /// Its app.
    pub app: AppType,
    /// The URL clients use (`http://host:port`, `https://...` or `unix:/path`).
    pub url: String,
}

enum Bound {
    Tcp(TcpListener),
    Tls(TlsListener),
    Unix(tokio::net::UnixListener),
}

/// A running node.
#[derive(Debug)]
pub struct RunningNode {
    /// Every server with the URL it listens on.
    pub servers: Vec<BoundServer>,
    tasks: JoinSet<Result<(), NodeError>>,
    unix_paths: Vec<PathBuf>,
    tm: Arc<TxManager>,
}

impl RunningNode {
    /// Asks every known peer to resend every transaction of our keys (after data loss);
    /// logs and returns how many resend requests succeeded and failed.
    pub async fn recover(&self) -> (usize, usize) {
        let results = self.tm.recover_from_peers().await;
        let mut ok = 0;
        for (url, key, result) in &results {
            match result {
                Ok(()) => {
                    ok += 1;
                    tracing::info!(target: "qtm::recovery", %url, %key, "peer resent everything");
                }
                Err(e) => {
                    tracing::warn!(target: "qtm::recovery", %url, %key, error = %e, "resend request failed")
                }
            }
        }
        (ok, results.len() - ok)
    }

    /// Waits until a server stops (which only happens on error).
    pub async fn wait(mut self) -> Result<(), NodeError> {
        let result = match self.tasks.join_next().await {
            Some(Ok(result)) => result,
            Some(Err(e)) => {
                Err(NodeError::Serve { app: "task", source: std::io::Error::other(e.to_string()) })
            }
            None => Ok(()),
        };
        self.cleanup();
        result
    }

    /// Removes unix socket files.
    pub fn cleanup(&self) {
        for path in &self.unix_paths {
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn bind(server: &ServerConfig) -> Result<(Bound, String), NodeError> {
    let app = server.app.as_str();
    let address = server.bind_address()?;
    let bind_err = |source| NodeError::Bind { app, address: server.server_address.clone(), source };
    match address {
        ListenAddress::Unix(path) => {
            if path.exists() {
                let _ = std::fs::remove_file(&path);
            }
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(bind_err)?;
            }
            let listener = tokio::net::UnixListener::bind(&path).map_err(bind_err)?;
            Ok((Bound::Unix(listener), format!("unix:{}", path.display())))
        }
        ListenAddress::Tcp { host, port, tls } => {
            let listener = TcpListener::bind((host.as_str(), port)).await.map_err(bind_err)?;
            let local = listener.local_addr().map_err(bind_err)?;
            let url = advertised_url(server, local)?;
            if tls || server.tls_enabled() {
                let ssl = server.ssl_config.clone().unwrap_or_default();
                let listener =
                    TlsListener::new(listener, tls::server_config(&ssl)?).map_err(bind_err)?;
                Ok((Bound::Tls(listener), url))
            } else {
                Ok((Bound::Tcp(listener), url))
            }
        }
    }
}

/// The advertised URL: `serverAddress`, with the actually bound port when it says port 0.
fn advertised_url(server: &ServerConfig, local: SocketAddr) -> Result<String, NodeError> {
    match server.advertised_address()? {
        ListenAddress::Tcp { host, port, tls } => {
            let scheme = if tls || server.tls_enabled() { "https" } else { "http" };
            let port = if port == 0 { local.port() } else { port };
            let host = if host.contains(':') { format!("[{host}]") } else { host };
            Ok(format!("{scheme}://{host}:{port}"))
        }
        ListenAddress::Unix(path) => Ok(format!("unix:{}", path.display())),
    }
}

fn serve(set: &mut JoinSet<Result<(), NodeError>>, app: AppType, bound: Bound, router: Router) {
    let app_name = app.as_str();
    set.spawn(async move {
        let result = match bound {
            Bound::Tcp(l) => {
                axum::serve(l, router.into_make_service_with_connect_info::<PeerAddr>()).await
            }
            Bound::Tls(l) => {
                axum::serve(l, router.into_make_service_with_connect_info::<PeerAddr>()).await
            }
            Bound::Unix(l) => axum::serve(l, router.into_make_service()).await,
        };
        result.map_err(|source| NodeError::Serve { app: app_name, source })
    });
}

async fn open_enclave(config: &TesseraConfig, raw: &str) -> Result<Arc<dyn Enclave>, NodeError> {
    if let Some(server) = config.server(AppType::Enclave) {
        tracing::info!(target: "qtm::node", url = %server.server_address, "using remote enclave");
        let enclave = RemoteEnclave::new(&server.server_address)?;
        return Ok(Arc::new(enclave));
    }
    let enclave_config: qrs_enclave::config::TesseraConfig =
        serde_json::from_str(raw).map_err(|source| qrs_enclave::config::ConfigError::Json {
            path: "config".into(),
            source,
        })?;
    let local = LocalEnclave::new(enclave_config.enclave_config()?)?;
    Ok(Arc::new(local))
}

fn resident_groups(raw: &str, enabled: bool) -> Result<Option<Vec<ResidentGroup>>, NodeError> {
    if !enabled {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Groups {
        #[serde(default)]
        resident_groups: Vec<ResidentGroup>,
    }
    let groups: Groups = serde_json::from_str(raw).map_err(NodeError::ResidentGroups)?;
    Ok(Some(groups.resident_groups))
}

async fn whitelist(config: &TesseraConfig) -> Option<Vec<std::net::IpAddr>> {
    if !config.use_white_list {
        return None;
    }
    let mut ips = Vec::new();
    for peer in &config.peer {
        let Ok(url) = url::Url::parse(&peer.url) else { continue };
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            continue;
        };
        if let Ok(addrs) = tokio::net::lookup_host((host, port)).await {
            ips.extend(addrs.map(|a| a.ip()));
        }
    }
    Some(ips)
}

/// Starts every configured server and background task. `raw` is the config JSON text.
pub async fn start(raw: &str) -> Result<RunningNode, NodeError> {
    let config = TesseraConfig::from_json(raw)?;
    let store_url = StoreUrl::parse(&config.jdbc.url)?
        .with_credentials(config.jdbc.username.as_deref(), config.jdbc.password.as_deref());
    let store = open_store(&store_url).await?;
    let enclave = open_enclave(&config, raw).await?;
    let local_keys = enclave.public_keys().await?;

    let mut bound = Vec::new();
    for server in
        config.enabled_servers().filter(|s| s.app != AppType::Enclave && s.app != AppType::Admin)
    {
        let (listener, url) = bind(server).await?;
        bound.push((server.clone(), listener, url));
    }
    let p2p = bound.iter().find(|(s, _, _)| s.app == AppType::P2P).ok_or(ConfigError::NoP2p)?;
    let own_url = normalize_url(&p2p.2).ok_or_else(|| ConfigError::BadPeer(p2p.2.clone()))?;
    let interval =
        p2p.0.duration_property("partyInfoInterval").unwrap_or(DEFAULT_PARTY_INFO_INTERVAL);
    let client_tls = match p2p.0.ssl_config.as_ref().filter(|_| p2p.0.tls_enabled()) {
        Some(ssl) => Some(tls::client_config(ssl)?),
        None => None,
    };
    let client = PeerClient::new(client_tls, Duration::from_secs(10))?;
    let peers = config.peer.iter().filter_map(|p| normalize_url(&p.url)).collect();
    let discovery = Arc::new(Discovery::new(
        DiscoveryConfig {
            own_url,
            peers,
            disable_peer_discovery: config.disable_peer_discovery,
            validate_keys: config.features.remote_key_validation(),
            interval,
        },
        local_keys,
        enclave.clone(),
        client.clone(),
    ));
    let tm = Arc::new(
        TxManager::new(
            enclave,
            store,
            discovery.clone(),
            client,
            TxManagerConfig {
                enhanced_privacy: config.features.enable_privacy_enhancements,
                resend_page_size: config.jdbc.fetch_size.unwrap_or(500).max(1),
            },
        )
        .await?,
    );
    let settings = ApiSettings {
        resident_groups: resident_groups(raw, config.features.enable_multiple_private_states)?,
        whitelist: whitelist(&config).await,
    };
    let state =
        AppState { tm: tm.clone(), discovery: discovery.clone(), settings: Arc::new(settings) };

    let mut tasks = JoinSet::new();
    let mut servers = Vec::new();
    let mut unix_paths = Vec::new();
    let metrics = Arc::new(QtmMetrics::new());
    for (server, listener, url) in bound {
        let routes = match server.app {
            AppType::Q2T => api::q2t::router(),
            AppType::ThirdParty => api::third_party::router(),
            _ => {
                let (m, d) = (metrics.clone(), discovery.clone());
                api::p2p::router(state.clone()).route(
                    "/metrics",
                    axum::routing::get(move || async move { crate::metrics::response(&m, &d) }),
                )
            }
        };
        let track = Track { metrics: metrics.clone(), app: server.app.as_str() };
        let router = routes
            .route_layer(axum::middleware::from_fn_with_state(track, crate::metrics::track))
            .merge(api::openapi::routes(server.app))
            .fallback(api::not_found)
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(state.clone());
        if let Some(path) = url.strip_prefix("unix:") {
            unix_paths.push(PathBuf::from(path));
        }
        serve(&mut tasks, server.app, listener, router);
        servers.push(BoundServer { app: server.app, url });
    }
    tasks.spawn(async move {
        discovery.run().await;
        Ok(())
    });
    Ok(RunningNode { servers, tasks, unix_paths, tm })
}
