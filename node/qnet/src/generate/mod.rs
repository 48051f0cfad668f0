//! `qnet init`: writes a whole network into a directory.
//!
//! ```text
//! D/network.json  genesis.json  static-nodes.json  permissioned-nodes.json
//! D/docker-compose.yml  Dockerfile  Dockerfile.dockerignore  prometheus.yml
//! D/<node>/  nodekey nodekey.pub address accountKeystore accountPassword accountPrivateKey
//!            keystore/UTC--…  static-nodes.json permissioned-nodes.json  (the datadir)
//!            chaindata/ qnode/genesis.json  (qnode init)  qnode.flags start.sh
//! D/<member>/tm/  tm.key tm.pub tessera-config.json start.sh
//! ```

pub mod docker;
pub mod files;
pub mod flags;
pub mod genesis;
pub mod keys;
pub mod monitoring;
pub mod tessera;

use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use qrs_chainspec::{ChainSpec, ConsensusConfig};
use qrs_keystore::ScryptCost;
use qrs_network::Enode;
use qrs_qbft::QbftExtra;

use self::{
    files::{create_dir, write_executable, write_file, write_json},
    keys::{NodeKeys, generate_node_keys},
};
use crate::{
    error::QnetError,
    layout::{Consensus, HOST, Layout, NodePlan},
    network_json::{NETWORK_JSON, NetworkJson, NodeEntry, TmEntry},
};

/// The genesis file in the network directory.
pub const GENESIS: &str = "genesis.json";
/// Static peers (every node; Raft ids follow this order).
pub const STATIC_NODES: &str = "static-nodes.json";
/// The permissioned-nodes allow list (every node).
pub const PERMISSIONED_NODES: &str = "permissioned-nodes.json";

/// How to generate.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Replace an earlier qnet network in the directory.
    pub force: bool,
    /// scrypt cost of the account key files (`Standard` as geth; `Light` = `--lightkdf`).
    pub scrypt: ScryptCost,
    /// The quorum-rs checkout docker-compose builds the image from.
    pub repo: PathBuf,
}

/// Prepares `dir`: creates it, or accepts it empty, or (with `force`) empties an earlier qnet
/// network. A non-empty directory without `network.json` is never deleted.
fn prepare_dir(dir: &Path, force: bool) -> Result<(), QnetError> {
    if !dir.exists() {
        return create_dir(dir);
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| QnetError::io(dir, e))?.peekable();
    if entries.peek().is_none() {
        return Ok(());
    }
    if !force {
        return Err(QnetError::DirNotEmpty(dir.to_owned()));
    }
    if !dir.join(NETWORK_JSON).is_file() {
        return Err(QnetError::InvalidOption(format!(
            "{} is not empty and holds no {NETWORK_JSON}: refusing to delete it even with --force",
            dir.display()
        )));
    }
    clear_dir(dir)
}

fn clear_dir(dir: &Path) -> Result<(), QnetError> {
    for entry in std::fs::read_dir(dir).map_err(|e| QnetError::io(dir, e))? {
        let path = entry.map_err(|e| QnetError::io(dir, e))?.path();
        let removed = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| QnetError::io(&path, e))?;
    }
    Ok(())
}

/// Generates the network of `layout` into `dir` and returns its `network.json`. On failure the
/// directory is emptied again (it was empty, or an earlier network removed with `force`).
pub fn init(dir: &Path, layout: &Layout, options: &InitOptions) -> Result<NetworkJson, QnetError> {
    prepare_dir(dir, options.force)?;
    let result = generate(dir, layout, options);
    if result.is_err() {
        let _ = clear_dir(dir);
    }
    result
}

fn enode(node: &NodePlan, keys: &NodeKeys) -> Enode {
    Enode {
        id: keys.nodekey.enode_id(),
        host: HOST.to_owned(),
        port: node.p2p_port,
        raft_port: node.raft_port,
        discport: Some(0),
    }
}

fn generate(dir: &Path, layout: &Layout, options: &InitOptions) -> Result<NetworkJson, QnetError> {
    let started = std::time::Instant::now();
    let keys = generate_all_keys(dir, layout, options.scrypt)?;

    let genesis_path = dir.join(GENESIS);
    let validators: Vec<Address> = layout
        .nodes
        .iter()
        .zip(&keys)
        .filter(|(n, _)| n.role == crate::layout::Role::Validator)
        .map(|(_, k)| k.nodekey.address())
        .collect();
    let accounts: Vec<Address> = keys.iter().map(|k| k.account).collect();
    write_json(&genesis_path, &genesis::genesis_json(layout, &validators, &accounts))?;
    check_genesis(&genesis_path, layout, &validators)?;

    let enodes: Vec<String> =
        layout.nodes.iter().zip(&keys).map(|(n, k)| enode(n, k).to_string()).collect();
    write_json(&dir.join(STATIC_NODES), &enodes)?;
    write_json(&dir.join(PERMISSIONED_NODES), &enodes)?;

    let mut commands = Vec::new();
    let mut entries = Vec::new();
    for (index, (node, k)) in layout.nodes.iter().zip(&keys).enumerate() {
        let node_dir = dir.join(node.dir());
        write_json(&node_dir.join(STATIC_NODES), &enodes)?;
        write_json(&node_dir.join(PERMISSIONED_NODES), &enodes)?;
        let flags = flags::qnode_flags(layout, node, k.account);
        write_file(&dir.join(node.flags_file()), flags::flags_file(&flags).as_bytes())?;
        let script =
            flags::start_script(&format!("{}'s qnode", node.name), 1, "QNODE", "qnode", &flags);
        write_executable(&dir.join(node.start_script()), script.as_bytes())?;
        let tm = write_tm(dir, layout, node, k)?;
        qrs_node::init_datadir(&node_dir, &genesis_path).map_err(|report| {
            QnetError::InitDatadir { datadir: node_dir.clone(), message: format!("{report:#}") }
        })?;
        let metrics = flags::metrics_url(&flags);
        commands.push(flags);
        entries.push(NodeEntry {
            name: node.name.clone(),
            role: node.role,
            rpc: node.rpc_url(),
            ws: node.ws_url(),
            account: k.account,
            account_key_file: node.account_private_key(),
            account_keystore_file: node.account_keystore(),
            account_password_file: node.account_password(),
            node_address: k.nodekey.address(),
            nodekey_file: node.nodekey(),
            enode: enodes.get(index).cloned().unwrap_or_default(),
            p2p_port: node.p2p_port,
            raft_port: node.raft_port,
            raft_id: node.raft_port.map(|_| index as u64 + 1),
            datadir: node.dir(),
            flags_file: node.flags_file(),
            start_script: node.start_script(),
            tm,
            metrics,
        });
    }
    write_docker(dir, layout, &commands, options)?;
    let network = NetworkJson {
        chain_id: layout.spec.chain_id,
        consensus: layout.spec.consensus,
        genesis: PathBuf::from(GENESIS),
        block_period: (layout.spec.consensus == Consensus::Qbft).then(|| layout.block_period()),
        raft_block_time_ms: (layout.spec.consensus == Consensus::Raft)
            .then(|| layout.raft_block_time_ms()),
        nodes: entries,
    };
    let prometheus = monitoring::prometheus_yml_for(&network);
    write_file(&dir.join(monitoring::PROMETHEUS_YML), prometheus.as_bytes())?;
    network.save(dir)?;
    tracing::info!(target: "qnet::init", dir = %dir.display(), nodes = layout.nodes.len(),
        consensus = %layout.spec.consensus, elapsed_ms = started.elapsed().as_millis() as u64,
        "network generated");
    Ok(network)
}

/// Generates every node's keys, a few nodes at a time (standard scrypt costs about a second
/// and 256 MiB per account key file).
fn generate_all_keys(
    dir: &Path,
    layout: &Layout,
    cost: ScryptCost,
) -> Result<Vec<NodeKeys>, QnetError> {
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    let mut keys = Vec::with_capacity(layout.nodes.len());
    for chunk in layout.nodes.chunks(parallel) {
        let results: Vec<Result<NodeKeys, QnetError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|node| scope.spawn(move || generate_node_keys(dir, node, cost)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(QnetError::InvalidOption("key generation thread panicked".into()))
                    })
                })
                .collect()
        });
        for result in results {
            keys.push(result?);
        }
    }
    Ok(keys)
}

/// The genesis must load as a node would load it; a QBFT genesis must name exactly the
/// validators.
fn check_genesis(path: &Path, layout: &Layout, validators: &[Address]) -> Result<(), QnetError> {
    let spec = ChainSpec::from_file(path)?;
    let ok = match (layout.spec.consensus, spec.consensus()) {
        (Consensus::Qbft, ConsensusConfig::Qbft(_)) => {
            let extra = QbftExtra::decode_extra(&spec.genesis.extra_data).map_err(|e| {
                QnetError::InvalidOption(format!("generated extraData does not decode: {e}"))
            })?;
            let mut expected = validators.to_vec();
            expected.sort();
            extra.validators == expected
        }
        (Consensus::Raft, ConsensusConfig::None) => true,
        _ => false,
    };
    if !ok {
        return Err(QnetError::InvalidOption(format!(
            "generated genesis {} does not select {} with the generated validators",
            path.display(),
            layout.spec.consensus
        )));
    }
    Ok(())
}

fn write_tm(
    dir: &Path,
    layout: &Layout,
    node: &NodePlan,
    keys: &NodeKeys,
) -> Result<Option<TmEntry>, QnetError> {
    let (Some(tm), Some(public_key)) = (node.tm, keys.tm_public_key.clone()) else {
        return Ok(None);
    };
    write_json(&dir.join(node.tm_config()), &tessera::tessera_config(layout, node, tm))?;
    let args = vec!["--configfile".to_owned(), node.tm_config().display().to_string()];
    let script = flags::start_script(&format!("{}'s qtm", node.name), 2, "QTM", "qtm", &args);
    write_executable(&dir.join(node.tm_start_script()), script.as_bytes())?;
    Ok(Some(TmEntry {
        third_party: tessera::url(tm.third_party),
        q2t: tessera::url(tm.q2t),
        p2p: tessera::url(tm.p2p),
        public_key,
        public_key_file: node.tm_public_key(),
        private_key_file: node.tm_private_key(),
        config_file: node.tm_config(),
        start_script: node.tm_start_script(),
    }))
}

fn write_docker(
    dir: &Path,
    layout: &Layout,
    commands: &[Vec<String>],
    options: &InitOptions,
) -> Result<(), QnetError> {
    let abs_dir = std::fs::canonicalize(dir).map_err(|e| QnetError::io(dir, e))?;
    let dockerfile = abs_dir.join("Dockerfile");
    write_file(&dockerfile, docker::dockerfile().as_bytes())?;
    write_file(&dir.join("Dockerfile.dockerignore"), docker::dockerignore().as_bytes())?;
    let user = owner(&abs_dir);
    let compose = docker::compose(layout, commands, &options.repo, &dockerfile, user.as_deref());
    write_file(&dir.join("docker-compose.yml"), compose.as_bytes())
}

/// `uid:gid` of the network directory, so containers write files the user can still delete.
fn owner(dir: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let meta = std::fs::metadata(dir).ok()?;
        Some(format!("{}:{}", meta.uid(), meta.gid()))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}
