//! `qtm`: run a Tessera-compatible transaction manager, or generate keys.
//!
//! ```text
//! qtm --configfile tessera-config.json        (Tessera: tessera -configfile FILE)
//! qtm keygen --filename tm [--locked]         (Tessera: tessera -keygen -filename tm)
//! qtm --configfile F --log.json               (JSON log lines with Tessera's fields)
//! ```
//! Every bound server is printed on stdout as `qtm listening app=<APP> url=<URL>`.

use std::{io::Write as _, path::PathBuf};

use clap::{Parser, Subcommand};
use eyre::{WrapErr as _, eyre};
use qrs_enclave::SecretString;

#[derive(Debug, Parser)]
#[command(name = "qtm", version, about = "Tessera-compatible private transaction manager")]
struct Cli {
    /// Tessera config file (JSON).
    #[arg(long = "configfile", global = false)]
    configfile: Option<PathBuf>,
    /// Log one JSON object per line with Tessera's fields (timestamp, level, thread, logger,
    /// class, message) instead of text.
    #[arg(long = "log.json", env = "QTM_LOG_JSON")]
    log_json: bool,
    /// After starting, ask every peer to resend every transaction of our keys (recovery
    /// after data loss; Tessera's `-r`). The node keeps running afterwards.
    #[arg(long, short = 'r')]
    recover: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate key pairs in Tessera's file formats (NAME.pub, NAME.key).
    Keygen {
        /// Comma-separated file name prefixes.
        #[arg(long = "filename", alias = "keyout", value_delimiter = ',', required = true)]
        filename: Vec<PathBuf>,
        /// Lock the private key with a password (Argon2 + secretbox), read from the
        /// QTM_KEY_PASSWORD environment variable or the first line of stdin.
        #[arg(long)]
        locked: bool,
    },
}

/// Maps Tessera's single-dash options (`-configfile`, `-keygen`, `-filename`) to ours.
fn tessera_args() -> Vec<String> {
    std::env::args()
        .enumerate()
        .map(|(i, arg)| match (i, arg.as_str()) {
            (0, _) => arg,
            (_, "-configfile") => "--configfile".into(),
            (_, "-recover") => "--recover".into(),
            (_, "-keygen") => "keygen".into(),
            (_, "-filename") => "--filename".into(),
            _ => arg,
        })
        .collect()
}

fn read_password() -> eyre::Result<SecretString> {
    if let Ok(p) = std::env::var("QTM_KEY_PASSWORD") {
        return Ok(SecretString::from(p));
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).wrap_err("reading the key password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(eyre!("--locked needs a non-empty password (QTM_KEY_PASSWORD or stdin)"));
    }
    Ok(SecretString::from(password))
}

fn keygen(filenames: &[PathBuf], locked: bool) -> eyre::Result<()> {
    let password = if locked { Some(read_password()?) } else { None };
    let mut out = std::io::stdout().lock();
    for name in filenames {
        let key = qrs_enclave::generate_key_files(name, password.as_ref())
            .wrap_err_with(|| format!("generating {}", name.display()))?;
        writeln!(out, "{key}")?;
    }
    Ok(())
}

async fn run(configfile: PathBuf, recover: bool) -> eyre::Result<()> {
    let raw = std::fs::read_to_string(&configfile)
        .wrap_err_with(|| format!("reading config file {}", configfile.display()))?;
    let node = qrs_qtm::start(&raw).await.wrap_err("starting qtm")?;
    {
        let mut out = std::io::stdout().lock();
        for server in &node.servers {
            writeln!(out, "qtm listening app={} url={}", server.app.as_str(), server.url)?;
        }
        out.flush()?;
    }
    if recover {
        let (ok, failed) = node.recover().await;
        let mut out = std::io::stdout().lock();
        writeln!(out, "qtm recovery done requests_ok={ok} requests_failed={failed}")?;
        out.flush()?;
    }
    let cleanup_paths: Vec<_> = node
        .servers
        .iter()
        .filter_map(|s| s.url.strip_prefix("unix:").map(PathBuf::from))
        .collect();
    tokio::select! {
        result = node.wait() => result.wrap_err("qtm stopped")?,
        _ = shutdown_signal() => {
            tracing::info!(target: "qtm::node", "shutting down");
            for path in cleanup_paths {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

/// mimalloc, as in `qnode`: glibc malloc's trimming and consolidation cost qtm ≈ 10 % of its CPU
/// under load (and TLB shootdowns across its threads when freed memory is unmapped).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> eyre::Result<()> {
    let cli = Cli::parse_from(tessera_args());
    qrs_qtm::logging::init(cli.log_json);
    match (cli.command, cli.configfile) {
        (Some(Command::Keygen { filename, locked }), _) => keygen(&filename, locked),
        (None, Some(configfile)) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(run(configfile, cli.recover))
        }
        (None, None) => Err(eyre!("--configfile FILE is required (or use the keygen subcommand)")),
    }
}
