//! Tessera's JSON configuration, accepted as is.
//!
//! Only the fields qtm acts on are typed; unknown fields are ignored so that a Tessera config
//! file works unchanged. `keys` is kept as raw JSON and handed to the enclave.

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde::Deserialize;
use thiserror::Error;

/// Errors reading or validating a configuration file.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The JSON was malformed or a field had the wrong type.
    #[error("invalid Tessera config JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A server address could not be parsed.
    #[error("invalid serverAddress/bindingAddress {address:?} for app {app}: {reason}")]
    BadAddress {
        /// The app of the server config.
        app: String,
        /// The address.
        address: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A peer URL could not be parsed.
    #[error("invalid peer url {0:?}")]
    BadPeer(String),
    /// Some config combination is unsupported.
    #[error("unsupported configuration: {0}")]
    Unsupported(&'static str),
    /// No P2P server is configured.
    #[error("the config has no enabled P2P serverConfig")]
    NoP2p,
    /// An unknown `app` value.
    #[error("unknown serverConfigs app {0:?} (expected Q2T, P2P, ThirdParty, ADMIN or ENCLAVE)")]
    UnknownApp(String),
}

/// The whole Tessera config (`Config.java`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TesseraConfig {
    /// `"orion"` selects Besu mode (unsupported); anything else is Tessera mode.
    #[serde(default)]
    pub mode: Option<String>,
    /// Database settings.
    pub jdbc: JdbcConfig,
    /// The servers to run (and the remote enclave, if any).
    #[serde(default)]
    pub server_configs: Vec<ServerConfig>,
    /// Peers to contact on start.
    #[serde(default)]
    pub peer: Vec<PeerConfig>,
    /// Key configuration for the enclave, kept as JSON.
    #[serde(default)]
    pub keys: Option<serde_json::Value>,
    /// Forwarding keys added as recipients of every sent transaction.
    #[serde(default)]
    pub always_send_to: Vec<String>,
    /// Only accept P2P calls from configured peer hosts.
    #[serde(default)]
    pub use_white_list: bool,
    /// Only talk to configured peers.
    #[serde(default)]
    pub disable_peer_discovery: bool,
    /// Tessera's bootstrap node flag (accepted, no effect).
    #[serde(default)]
    pub bootstrap_node: bool,
    /// Feature switches.
    #[serde(default)]
    pub features: FeatureToggles,
    /// Deprecated pre-`serverConfigs` unix socket for Q2T.
    #[serde(default)]
    pub unix_socket_file: Option<String>,
}

/// `jdbc` object.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct JdbcConfig {
    /// JDBC URL (`jdbc:h2:...`, `jdbc:sqlite:...`, `jdbc:postgresql://...`).
    pub url: String,
    /// Database user.
    #[serde(default)]
    pub username: Option<String>,
    /// Database password.
    #[serde(default)]
    pub password: Option<String>,
    /// Create tables on start (always done by qtm's migrations).
    #[serde(default)]
    pub auto_create_tables: Option<bool>,
    /// Page size used by resend ALL.
    #[serde(default)]
    pub fetch_size: Option<u32>,
}

/// `features` object.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FeatureToggles {
    /// Challenge every claimed key through `/partyinfo/validate`. Unlike Tessera, qtm turns
    /// this ON when the field is absent; an explicit `false` is respected.
    #[serde(default)]
    pub enable_remote_key_validation: Option<bool>,
    /// Allow privacy flags 1–3.
    #[serde(default)]
    pub enable_privacy_enhancements: bool,
    /// Multiple private states (resident groups).
    #[serde(default)]
    pub enable_multiple_private_states: bool,
}

impl FeatureToggles {
    /// Remote key validation, on by default.
    pub fn remote_key_validation(&self) -> bool {
        self.enable_remote_key_validation.unwrap_or(true)
    }
}

/// `peer[]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerConfig {
    /// Peer P2P URL.
    pub url: String,
}

/// Server application types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppType {
    /// Quorum-to-Tessera API.
    Q2T,
    /// Peer-to-peer API.
    P2P,
    /// Third-party (web3js-quorum) API.
    ThirdParty,
    /// Admin API (accepted, not served).
    Admin,
    /// Remote enclave (in a TM config: the enclave to use).
    Enclave,
}

impl AppType {
    /// Tessera's spelling of the app name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Q2T => "Q2T",
            Self::P2P => "P2P",
            Self::ThirdParty => "ThirdParty",
            Self::Admin => "ADMIN",
            Self::Enclave => "ENCLAVE",
        }
    }
}

impl<'de> Deserialize<'de> for AppType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.to_ascii_uppercase().as_str() {
            "Q2T" => Ok(Self::Q2T),
            "P2P" => Ok(Self::P2P),
            "THIRDPARTY" | "THIRD_PARTY" => Ok(Self::ThirdParty),
            "ADMIN" => Ok(Self::Admin),
            "ENCLAVE" => Ok(Self::Enclave),
            _ => Err(serde::de::Error::custom(ConfigError::UnknownApp(s))),
        }
    }
}

/// `serverConfigs[]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerConfig {
    /// Which API this server serves.
    pub app: AppType,
    /// Disabled servers are skipped.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Advertised address: `http://host:port`, `https://host:port` or `unix:/path`.
    pub server_address: String,
    /// Optional bind address when it differs from `serverAddress`.
    #[serde(default)]
    pub binding_address: Option<String>,
    /// Always `REST`.
    #[serde(default)]
    pub communication_type: Option<String>,
    /// TLS settings.
    #[serde(default)]
    pub ssl_config: Option<SslConfig>,
    /// Free-form properties (`partyInfoInterval`, ... in milliseconds).
    #[serde(default)]
    pub properties: BTreeMap<String, serde_json::Value>,
}

fn default_true() -> bool {
    true
}

/// TLS mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum TlsMode {
    /// Mutual/one-way TLS.
    Strict,
    /// Plain HTTP.
    #[default]
    Off,
}

/// `sslConfig` (PEM material and CA trust mode; JKS is not supported).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SslConfig {
    /// `STRICT` or `OFF`.
    #[serde(default)]
    pub tls: TlsMode,
    /// Require client certificates (default true).
    #[serde(default)]
    pub client_auth: Option<bool>,
    /// Server trust mode (only `CA` and `NONE` are supported).
    #[serde(default)]
    pub server_trust_mode: Option<String>,
    /// Client trust mode (only `CA` and `NONE` are supported).
    #[serde(default)]
    pub client_trust_mode: Option<String>,
    /// Server private key (PEM).
    #[serde(default)]
    pub server_tls_key_path: Option<String>,
    /// Server certificate chain (PEM).
    #[serde(default)]
    pub server_tls_certificate_path: Option<String>,
    /// CA certificates trusted for client certificates.
    #[serde(default)]
    pub server_trust_certificates: Vec<String>,
    /// Client private key (PEM).
    #[serde(default)]
    pub client_tls_key_path: Option<String>,
    /// Client certificate chain (PEM).
    #[serde(default)]
    pub client_tls_certificate_path: Option<String>,
    /// CA certificates trusted for server certificates.
    #[serde(default)]
    pub client_trust_certificates: Vec<String>,
    /// JKS server keystore (unsupported; reported as an error when set with STRICT).
    #[serde(default)]
    pub server_key_store: Option<String>,
}

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddress {
    /// TCP `host:port`, with `https` when `tls` is set.
    Tcp {
        /// Host name or IP.
        host: String,
        /// Port (0 = any).
        port: u16,
        /// Scheme is `https`.
        tls: bool,
    },
    /// Unix domain socket path.
    Unix(std::path::PathBuf),
}

impl ListenAddress {
    /// Parses `http://host:port`, `https://host:port` or `unix:/path`.
    pub fn parse(app: AppType, address: &str) -> Result<Self, ConfigError> {
        let bad = |reason| ConfigError::BadAddress {
            app: app.as_str().into(),
            address: address.into(),
            reason,
        };
        if let Some(path) = address.strip_prefix("unix:") {
            let path = path.trim_start_matches("//");
            if path.is_empty() {
                return Err(bad("empty unix socket path"));
            }
            return Ok(Self::Unix(path.into()));
        }
        let url = url::Url::parse(address).map_err(|_| bad("not a URL"))?;
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            _ => return Err(bad("scheme must be http, https or unix")),
        };
        let host = url.host_str().ok_or_else(|| bad("missing host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = url.port_or_known_default().ok_or_else(|| bad("missing port"))?;
        Ok(Self::Tcp { host, port, tls })
    }
}

impl ServerConfig {
    /// The address to bind: `bindingAddress` if set, else `serverAddress`.
    pub fn bind_address(&self) -> Result<ListenAddress, ConfigError> {
        let addr = self.binding_address.as_deref().unwrap_or(&self.server_address);
        ListenAddress::parse(self.app, addr)
    }

    /// The advertised address.
    pub fn advertised_address(&self) -> Result<ListenAddress, ConfigError> {
        ListenAddress::parse(self.app, &self.server_address)
    }

    /// A millisecond property such as `partyInfoInterval`.
    pub fn duration_property(&self, name: &str) -> Option<Duration> {
        let value = self.properties.get(name)?;
        let ms = match value {
            serde_json::Value::Number(n) => n.as_u64()?,
            serde_json::Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        Some(Duration::from_millis(ms))
    }

    /// TLS is on for this server.
    pub fn tls_enabled(&self) -> bool {
        self.ssl_config.as_ref().is_some_and(|s| s.tls == TlsMode::Strict)
    }
}

impl TesseraConfig {
    /// Reads and parses a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::from_json(&text)
    }

    /// Parses config JSON and checks the parts qtm depends on.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("orion")) {
            return Err(ConfigError::Unsupported("mode \"orion\" (Besu) is not supported"));
        }
        for server in self.enabled_servers() {
            server.bind_address()?;
            server.advertised_address()?;
        }
        if self.server(AppType::P2P).is_none() {
            return Err(ConfigError::NoP2p);
        }
        for peer in &self.peer {
            url::Url::parse(&peer.url).map_err(|_| ConfigError::BadPeer(peer.url.clone()))?;
        }
        Ok(())
    }

    /// Enabled server configs.
    pub fn enabled_servers(&self) -> impl Iterator<Item = &ServerConfig> {
        self.server_configs.iter().filter(|s| s.enabled)
    }

    /// The first enabled server config of an app type.
    pub fn server(&self, app: AppType) -> Option<&ServerConfig> {
        self.enabled_servers().find(|s| s.app == app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/goquorum-quickstart/tessera/tessera-config-template.json"
    ));

    #[test]
    fn quickstart_template_parses() {
        let text =
            TEMPLATE.replace("${TESSERA_MODE}", "tessera").replace("${HOSTNAME}", "member1tessera");
        let config = TesseraConfig::from_json(&text).expect("template parses");
        assert_eq!(config.jdbc.url, "jdbc:h2:./data/tm/db;MODE=Oracle;TRACE_LEVEL_SYSTEM_OUT=0");
        assert_eq!(config.peer.len(), 3);
        assert_eq!(config.peer[1].url, "http://member2tessera:9000");
        let p2p = config.server(AppType::P2P).expect("p2p");
        assert_eq!(
            p2p.bind_address().expect("addr"),
            ListenAddress::Tcp { host: "member1tessera".into(), port: 9000, tls: false }
        );
        assert!(!p2p.tls_enabled());
        assert!(config.server(AppType::Q2T).is_some());
        assert!(config.server(AppType::ThirdParty).is_some());
        assert!(config.features.enable_privacy_enhancements);
        assert!(!config.features.remote_key_validation());
        assert!(config.keys.is_some());
        assert!(config.always_send_to.is_empty());
    }

    #[test]
    fn unix_and_properties() {
        let text = r#"{"jdbc":{"url":"jdbc:sqlite:/tmp/x.db"},"serverConfigs":[
            {"app":"Q2T","serverAddress":"unix:/tmp/tm.ipc"},
            {"app":"P2P","serverAddress":"http://localhost:0","properties":{"partyInfoInterval":"250"}},
            {"app":"ENCLAVE","serverAddress":"http://127.0.0.1:9181","enabled":true}],
            "peer":[],"features":{}}"#;
        let config = TesseraConfig::from_json(text).expect("parses");
        assert_eq!(
            config.server(AppType::Q2T).expect("q2t").bind_address().expect("unix"),
            ListenAddress::Unix("/tmp/tm.ipc".into())
        );
        let p2p = config.server(AppType::P2P).expect("p2p");
        assert_eq!(p2p.duration_property("partyInfoInterval"), Some(Duration::from_millis(250)));
        assert!(config.features.remote_key_validation(), "validation defaults to on");
        assert!(config.server(AppType::Enclave).is_some());
    }

    #[test]
    fn rejects_bad_input() {
        let no_p2p = r#"{"jdbc":{"url":"jdbc:sqlite:x"},"serverConfigs":[]}"#;
        assert!(matches!(TesseraConfig::from_json(no_p2p), Err(ConfigError::NoP2p)));
        let bad_app =
            r#"{"jdbc":{"url":"x"},"serverConfigs":[{"app":"FOO","serverAddress":"http://a:1"}]}"#;
        assert!(TesseraConfig::from_json(bad_app).is_err());
        let bad_addr =
            r#"{"jdbc":{"url":"x"},"serverConfigs":[{"app":"P2P","serverAddress":"ftp://a:1"}]}"#;
        assert!(matches!(TesseraConfig::from_json(bad_addr), Err(ConfigError::BadAddress { .. })));
        let orion = r#"{"mode":"orion","jdbc":{"url":"x"},"serverConfigs":[{"app":"P2P","serverAddress":"http://a:1"}]}"#;
        assert!(matches!(TesseraConfig::from_json(orion), Err(ConfigError::Unsupported(_))));
    }
}
