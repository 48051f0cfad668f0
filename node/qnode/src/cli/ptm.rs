//! Private transaction manager flags (GoQuorum's `--ptm.*` and the legacy `PRIVATE_CONFIG`).

use std::{path::PathBuf, time::Duration};

use clap::Args;
use eyre::{WrapErr, eyre};
use qrs_ptm::{PtmConfig, TlsFiles};

/// `--ptm.*` flags.
#[derive(Debug, Clone, Default, Args)]
pub struct PtmFlags {
    /// URL of the transaction manager's Q2T API (`http://` or `https://`).
    #[arg(long = "ptm.url")]
    pub url: Option<String>,
    /// Path of the transaction manager's Q2T unix socket.
    #[arg(long = "ptm.socket")]
    pub socket: Option<PathBuf>,
    /// Whole-request timeout in seconds (0 = none).
    #[arg(long = "ptm.timeout", default_value_t = 5)]
    pub timeout: u64,
    /// Connection timeout in seconds.
    #[arg(long = "ptm.dialtimeout", default_value_t = 1)]
    pub dial_timeout: u64,
    /// TLS mode for an `https` URL: `off` or `strict`.
    #[arg(long = "ptm.tls.mode", default_value = "off")]
    pub tls_mode: String,
    /// PEM root CA(s) trusted for the transaction manager's certificate.
    #[arg(long = "ptm.tls.rootca")]
    pub tls_root_ca: Option<PathBuf>,
    /// PEM client certificate (mutual TLS).
    #[arg(long = "ptm.tls.clientcert")]
    pub tls_client_cert: Option<PathBuf>,
    /// PEM client key (mutual TLS).
    #[arg(long = "ptm.tls.clientkey")]
    pub tls_client_key: Option<PathBuf>,
    /// Do not verify the transaction manager's certificate.
    #[arg(long = "ptm.tls.insecureskipverify")]
    pub tls_insecure_skip_verify: bool,
    /// Send private transactions as privacy marker transactions (needs `privacyPrecompileBlock`
    /// in the genesis).
    #[arg(long = "privacymarker.enable")]
    pub privacy_marker: bool,
}

impl PtmFlags {
    /// Where the transaction manager is: `--ptm.url` / `--ptm.socket`, else the `PRIVATE_CONFIG`
    /// environment variable (`ignore`, a TOML file or a socket path); `None` = no TM.
    pub fn config(&self) -> eyre::Result<Option<PtmConfig>> {
        self.config_with_env(std::env::var("PRIVATE_CONFIG").ok().as_deref())
    }

    /// [`PtmFlags::config`] with an explicit `PRIVATE_CONFIG` value.
    pub fn config_with_env(&self, private_config: Option<&str>) -> eyre::Result<Option<PtmConfig>> {
        let mut config = match (&self.url, &self.socket) {
            (Some(_), Some(_)) => return Err(eyre!("--ptm.url and --ptm.socket are exclusive")),
            (Some(url), None) => PtmConfig::http(url)?,
            (None, Some(socket)) => PtmConfig::unix(socket),
            (None, None) => {
                let Some(value) = private_config else { return Ok(None) };
                return PtmConfig::from_private_config(value)
                    .wrap_err_with(|| format!("PRIVATE_CONFIG={value}"));
            }
        };
        config.timeout = Duration::from_secs(self.timeout);
        config.dial_timeout = Duration::from_secs(self.dial_timeout);
        let strict = match self.tls_mode.to_ascii_lowercase().as_str() {
            "off" => false,
            "strict" => true,
            other => return Err(eyre!("--ptm.tls.mode {other}: expected off or strict")),
        };
        if strict && self.url.as_deref().is_none_or(|u| !u.starts_with("https://")) {
            return Err(eyre!("--ptm.tls.mode strict needs an https --ptm.url"));
        }
        config.tls = TlsFiles {
            root_ca: self.tls_root_ca.clone(),
            client_cert: self.tls_client_cert.clone(),
            client_key: self.tls_client_key.clone(),
            insecure_skip_verify: self.tls_insecure_skip_verify,
        };
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use qrs_ptm::PtmEndpoint;

    use super::*;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        ptm: PtmFlags,
    }

    fn parse(args: &[&str]) -> PtmFlags {
        T::parse_from(std::iter::once("qnode").chain(args.iter().copied())).ptm
    }

    #[test]
    fn flags_map_to_the_config() {
        let c = parse(&["--ptm.url", "http://127.0.0.1:9101", "--ptm.timeout", "7"])
            .config_with_env(Some("ignore"))
            .unwrap()
            .unwrap();
        assert!(matches!(c.endpoint, PtmEndpoint::Http(_)));
        assert_eq!(c.timeout, Duration::from_secs(7));
        assert_eq!(c.dial_timeout, Duration::from_secs(1));
        let c = parse(&["--ptm.socket", "/tmp/tm.ipc"]).config_with_env(None).unwrap().unwrap();
        assert_eq!(c.endpoint, PtmEndpoint::Unix("/tmp/tm.ipc".into()));
    }

    #[test]
    fn private_config_is_the_fallback() {
        let none = parse(&[]);
        assert!(none.config_with_env(None).unwrap().is_none());
        assert!(none.config_with_env(Some("ignore")).unwrap().is_none());
        let c = none.config_with_env(Some("/run/tm.ipc")).unwrap().unwrap();
        assert_eq!(c.endpoint, PtmEndpoint::Unix("/run/tm.ipc".into()));
    }

    #[test]
    fn bad_combinations_are_refused() {
        let both = parse(&["--ptm.url", "http://a:1", "--ptm.socket", "/x"]);
        assert!(both.config_with_env(None).is_err());
        let strict_http = parse(&["--ptm.url", "http://a:1", "--ptm.tls.mode", "strict"]);
        assert!(strict_http.config_with_env(None).is_err());
        assert!(parse(&["--ptm.url", "ftp://a"]).config_with_env(None).is_err());
    }
}
