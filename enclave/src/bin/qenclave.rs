//! `qenclave`: serves Tessera's enclave REST API (`app: "ENCLAVE"`) from a Tessera config file.
//!
//! Prints `listening on http://ADDR` on stdout once bound (port 0 picks a free port).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use eyre::{WrapErr as _, eyre};
use qrs_enclave::{LocalEnclave, TesseraConfig};

/// Tessera-compatible remote enclave server.
#[derive(Debug, Parser)]
#[command(name = "qenclave", version)]
struct Args {
    /// Tessera config file with keys and an `ENCLAVE` serverConfig.
    #[arg(long = "configfile")]
    configfile: PathBuf,
    /// Listen address, overriding the config (e.g. 127.0.0.1:0).
    #[arg(long = "listen")]
    listen: Option<SocketAddr>,
}

/// Accepts Tessera's single-dash long options (`-configfile FILE`).
fn normalized_args() -> Vec<String> {
    std::env::args()
        .map(|arg| match arg.as_str() {
            "-configfile" => "--configfile".to_owned(),
            other if other.starts_with("-configfile=") => format!("-{other}"),
            _ => arg,
        })
        .collect()
}

fn listen_address(config: &TesseraConfig) -> eyre::Result<SocketAddr> {
    let server = config
        .enclave_server()
        .ok_or_else(|| eyre!("the config has no enabled serverConfigs entry with app ENCLAVE"))?;
    let address = server
        .binding_address
        .as_deref()
        .or(server.server_address.as_deref())
        .ok_or_else(|| eyre!("the ENCLAVE serverConfig has no serverAddress"))?;
    let url =
        url::Url::parse(address).wrap_err_with(|| format!("invalid ENCLAVE address {address}"))?;
    let host = url.host_str().ok_or_else(|| eyre!("no host in {address}"))?;
    let port = url.port_or_known_default().ok_or_else(|| eyre!("no port in {address}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    format!("{host}:{port}").parse().or_else(|_| format!("[{host}]:{port}").parse()).wrap_err_with(
        || format!("cannot listen on {address} (give an IP address or use --listen)"),
    )
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse_from(normalized_args());
    let config = TesseraConfig::from_file(&args.configfile)?;
    let address = match args.listen {
        Some(address) => address,
        None => listen_address(&config)?,
    };
    let enclave = LocalEnclave::new(config.enclave_config()?)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .wrap_err_with(|| format!("cannot bind {address}"))?;
    let bound = listener.local_addr()?;
    #[allow(clippy::print_stdout)]
    {
        println!("listening on http://{bound}");
    }
    tracing::info!(target: "enclave::server", %bound, "qenclave serving");
    axum::serve(listener, qrs_enclave::remote::router(Arc::new(enclave)))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .wrap_err("server failed")
}
