//! Metrics and checkpoint flags, as geth / GoQuorum spell them.
//!
//! geth collects metrics with `--metrics` and serves them on the pprof server
//! (`--pprof --pprof.addr A --pprof.port P`: `/debug/metrics` and `/debug/metrics/prometheus`)
//! and, when `--metrics.addr` is given, on a stand-alone server at `--metrics.addr` /
//! `--metrics.port`. qnode serves the same two paths on each of those addresses; like geth,
//! `--metrics` alone opens no server (two nodes on one host would fight over 6060). Port 0 picks
//! a free port; the bound URL is printed as `qnode listening metrics=...`.

use std::net::SocketAddr;

use clap::Args;
use eyre::WrapErr;

/// geth's default metrics and pprof port.
pub const DEFAULT_METRICS_PORT: u16 = 6060;

/// Metrics, pprof and checkpoint flags.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricsFlags {
    /// Collect metrics, served on the pprof server and/or --metrics.addr (Prometheus text at
    /// /debug/metrics/prometheus).
    #[arg(long)]
    pub metrics: bool,
    /// Accepted for geth compatibility; every metric qnode has is cheap, so this changes nothing.
    #[arg(long = "metrics.expensive")]
    pub metrics_expensive: bool,
    /// Stand-alone metrics server listen address.
    #[arg(long = "metrics.addr")]
    pub metrics_addr: Option<String>,
    /// Stand-alone metrics server port.
    #[arg(long = "metrics.port", default_value_t = DEFAULT_METRICS_PORT)]
    pub metrics_port: u16,
    /// Enable the pprof HTTP server; qnode serves the metrics paths on it (no Go profiles).
    #[arg(long)]
    pub pprof: bool,
    /// pprof server listen address.
    #[arg(long = "pprof.addr", default_value = "127.0.0.1")]
    pub pprof_addr: String,
    /// pprof server port.
    #[arg(long = "pprof.port", default_value_t = DEFAULT_METRICS_PORT)]
    pub pprof_port: u16,
    /// Print GoQuorum's QUORUM-CHECKPOINT log lines (TX-CREATED, TX-COMPLETED, TX-ACCEPTED,
    /// BLOCK-CREATED, BECAME-MINTER, BECAME-VERIFIER).
    #[arg(long)]
    pub emitcheckpoints: bool,
}

fn addr(host: &str, port: u16) -> eyre::Result<SocketAddr> {
    format!("{host}:{port}").parse().wrap_err_with(|| format!("bad listen address {host}:{port}"))
}

impl MetricsFlags {
    /// The addresses the metrics endpoints are served on: the pprof server's (`--pprof`) and the
    /// stand-alone one (`--metrics.addr`); empty without `--metrics`.
    pub fn listen_addrs(&self) -> eyre::Result<Vec<SocketAddr>> {
        if !self.metrics {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if self.pprof {
            out.push(addr(&self.pprof_addr, self.pprof_port)?);
        }
        if let Some(host) = &self.metrics_addr {
            let a = addr(host, self.metrics_port)?;
            if !out.contains(&a) {
                out.push(a);
            }
        }
        if out.is_empty() {
            tracing::info!(target: "metrics", "--metrics without --pprof or --metrics.addr: no metrics server (as geth)");
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(metrics: bool, pprof: bool, metrics_addr: Option<&str>) -> MetricsFlags {
        MetricsFlags {
            metrics,
            pprof,
            metrics_addr: metrics_addr.map(str::to_owned),
            pprof_addr: "0.0.0.0".into(),
            pprof_port: 9545,
            metrics_port: DEFAULT_METRICS_PORT,
            ..MetricsFlags::default()
        }
    }

    #[test]
    fn quickstart_flags_serve_on_the_pprof_port() -> eyre::Result<()> {
        assert!(flags(false, true, None).listen_addrs()?.is_empty());
        assert_eq!(flags(true, true, None).listen_addrs()?, vec![addr("0.0.0.0", 9545)?]);
        assert!(flags(true, false, None).listen_addrs()?.is_empty(), "geth opens no server");
        assert_eq!(
            flags(true, false, Some("127.0.0.1")).listen_addrs()?,
            vec![addr("127.0.0.1", 6060)?]
        );
        assert_eq!(
            flags(true, true, Some("10.0.0.1")).listen_addrs()?,
            vec![addr("0.0.0.0", 9545)?, addr("10.0.0.1", 6060)?]
        );
        Ok(())
    }
}
