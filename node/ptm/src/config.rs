//! Where the transaction manager is, as GoQuorum's `--ptm.*` flags and `PRIVATE_CONFIG` say.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use url::Url;

use crate::PtmError;

/// TLS client files (`--ptm.tls.*`, TOML `tlsRootCA` / `tlsClientCert` / `tlsClientKey`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM root CA(s) trusted for the TM's certificate.
    pub root_ca: Option<PathBuf>,
    /// PEM client certificate (mutual TLS).
    pub client_cert: Option<PathBuf>,
    /// PEM client key (mutual TLS).
    pub client_key: Option<PathBuf>,
    /// Skip verification of the TM's certificate (`tlsInsecureSkipVerify`).
    pub insecure_skip_verify: bool,
}

/// How the node reaches its transaction manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PtmEndpoint {
    /// `http://` or `https://` URL (`--ptm.url`, TOML `httpUrl`).
    Http(Url),
    /// Unix socket (`--ptm.socket`, `PRIVATE_CONFIG=/path/tm.ipc`, TOML `socket`).
    Unix(PathBuf),
}

impl std::fmt::Display for PtmEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PtmEndpoint::Http(url) => write!(f, "{}", url.as_str().trim_end_matches('/')),
            PtmEndpoint::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// The transaction manager connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtmConfig {
    /// Where it is.
    pub endpoint: PtmEndpoint,
    /// Whole-request timeout (GoQuorum default 5 s; 0 = none).
    pub timeout: Duration,
    /// Connection timeout (GoQuorum default 1 s).
    pub dial_timeout: Duration,
    /// TLS settings for an `https` URL.
    pub tls: TlsFiles,
}

/// GoQuorum's defaults.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(1);

impl PtmConfig {
    /// `--ptm.url`.
    pub fn http(url: &str) -> Result<Self, PtmError> {
        let parsed =
            Url::parse(url).map_err(|e| PtmError::Config(format!("--ptm.url {url}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PtmError::Config(format!("--ptm.url {url}: scheme must be http or https")));
        }
        Ok(Self::with_endpoint(PtmEndpoint::Http(parsed)))
    }

    /// `--ptm.socket`.
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Self::with_endpoint(PtmEndpoint::Unix(path.into()))
    }

    fn with_endpoint(endpoint: PtmEndpoint) -> Self {
        Self {
            endpoint,
            timeout: DEFAULT_TIMEOUT,
            dial_timeout: DEFAULT_DIAL_TIMEOUT,
            tls: TlsFiles::default(),
        }
    }

    /// The legacy `PRIVATE_CONFIG` value: `ignore` (no TM: `Ok(None)`), the path of a TOML
    /// file, or the path of the TM's unix socket.
    pub fn from_private_config(value: &str) -> Result<Option<Self>, PtmError> {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("ignore") {
            return Ok(None);
        }
        let path = Path::new(value);
        let is_regular_file = std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(false);
        if is_regular_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| PtmError::Config(format!("reading {value}: {e}")))?;
            return Self::from_toml(&text).map(Some);
        }
        Ok(Some(Self::unix(path)))
    }

    /// A GoQuorum `PRIVATE_CONFIG` TOML file (`socket`, `workdir`, `httpUrl`, `timeout`,
    /// `dialTimeout`, `tlsMode`, `tlsRootCA`, `tlsClientCert`, `tlsClientKey`,
    /// `tlsInsecureSkipVerify`). Times are in seconds.
    pub fn from_toml(text: &str) -> Result<Self, PtmError> {
        let t: TomlConfig = toml::from_str(text)
            .map_err(|e| PtmError::Config(format!("PRIVATE_CONFIG TOML: {e}")))?;
        let mut config = match (&t.http_url, &t.socket) {
            (Some(url), _) if !url.is_empty() => Self::http(url)?,
            (_, Some(socket)) if !socket.is_empty() => {
                let workdir = t.workdir.as_deref().unwrap_or("");
                Self::unix(Path::new(workdir).join(socket))
            }
            _ => {
                return Err(PtmError::Config(
                    "PRIVATE_CONFIG TOML names neither httpUrl nor socket".into(),
                ));
            }
        };
        if let Some(secs) = t.timeout {
            config.timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = t.dial_timeout {
            config.dial_timeout = Duration::from_secs(secs);
        }
        let strict = t.tls_mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("strict"));
        if strict || t.tls_root_ca.is_some() || t.tls_client_cert.is_some() {
            config.tls = TlsFiles {
                root_ca: t.tls_root_ca.map(PathBuf::from),
                client_cert: t.tls_client_cert.map(PathBuf::from),
                client_key: t.tls_client_key.map(PathBuf::from),
                insecure_skip_verify: t.tls_insecure_skip_verify.unwrap_or(false),
            };
        }
        Ok(config)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TomlConfig {
    socket: Option<String>,
    workdir: Option<String>,
    http_url: Option<String>,
    timeout: Option<u64>,
    dial_timeout: Option<u64>,
    #[allow(dead_code)]
    http_idle_conn_timeout: Option<u64>,
    tls_mode: Option<String>,
    #[serde(rename = "tlsRootCA")]
    tls_root_ca: Option<String>,
    tls_client_cert: Option<String>,
    tls_client_key: Option<String>,
    tls_insecure_skip_verify: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_config_ignore_means_no_tm() {
        assert_eq!(PtmConfig::from_private_config("ignore").unwrap(), None);
        assert_eq!(PtmConfig::from_private_config("").unwrap(), None);
    }

    #[test]
    fn private_config_socket_path() {
        let c = PtmConfig::from_private_config("/qdata/tm/tm.ipc").unwrap().unwrap();
        assert_eq!(c.endpoint, PtmEndpoint::Unix("/qdata/tm/tm.ipc".into()));
        assert_eq!(c.timeout, Duration::from_secs(5));
    }

    #[test]
    fn private_config_toml_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tm.toml");
        std::fs::write(&file, "socket = \"tm.ipc\"\nworkdir = \"/qdata/tm\"\ntimeout = 9\n")
            .unwrap();
        let c = PtmConfig::from_private_config(file.to_str().unwrap()).unwrap().unwrap();
        assert_eq!(c.endpoint, PtmEndpoint::Unix("/qdata/tm/tm.ipc".into()));
        assert_eq!(c.timeout, Duration::from_secs(9));

        let c = PtmConfig::from_toml(
            "httpUrl = \"https://tm:9101\"\ntlsMode = \"strict\"\ntlsRootCA = \"/ca.pem\"\n",
        )
        .unwrap();
        assert_eq!(c.endpoint, PtmEndpoint::Http(Url::parse("https://tm:9101").unwrap()));
        assert_eq!(c.tls.root_ca, Some(PathBuf::from("/ca.pem")));
    }

    #[test]
    fn bad_configs_are_explained() {
        let e = PtmConfig::from_toml("workdir = \"/x\"").unwrap_err().to_string();
        assert!(e.contains("neither httpUrl nor socket"), "{e}");
        let e = PtmConfig::http("ftp://x").unwrap_err().to_string();
        assert!(e.contains("scheme must be http or https"), "{e}");
        assert!(PtmConfig::from_toml("timeout = \"x").is_err());
    }
}
