//! The files `qnet add-node` writes: the new node's directory (keys, flags, start script, TM
//! config, initialised datadir) and its entries in the network's shared files (peer lists of
//! every node, TM peer lists, `network.json`, `docker-compose.yml`). Every shared file is saved
//! in a [`Journal`] before it changes, so a failed add-node puts the network back as it was.

use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use serde_json::Value;

use crate::{
    error::QnetError,
    generate::{
        GENESIS, PERMISSIONED_NODES, STATIC_NODES, docker,
        files::{write_executable, write_file, write_json},
        flags, tessera,
    },
    layout::{
        Consensus, DEFAULT_RAFT_BLOCK_TIME_MS, HOST, Layout, NetworkSpec, NodePlan, PortScheme,
    },
    network_json::{NETWORK_JSON, NetworkJson, NodeEntry, TmEntry},
};

use super::plan::METRICS_PORT_FLAG;

/// What a failed add-node undoes: the files it changed (with their old contents) and the node
/// directory it created.
#[derive(Debug, Default)]
pub struct Journal {
    saved: Vec<(PathBuf, Option<Vec<u8>>)>,
    created: Option<PathBuf>,
}

impl Journal {
    /// Records that `dir` is new (removed on rollback).
    pub fn created(&mut self, dir: PathBuf) {
        self.created = Some(dir);
    }

    /// Writes `contents` to `path`, remembering what it held first.
    pub fn write(&mut self, path: &Path, contents: &[u8]) -> Result<(), QnetError> {
        if !self.saved.iter().any(|(p, _)| p == path) {
            let old = std::fs::read(path).ok();
            self.saved.push((path.to_owned(), old));
        }
        write_file(path, contents)
    }

    /// Writes pretty-printed JSON (as `init` does) through [`Journal::write`].
    pub fn write_json(
        &mut self,
        path: &Path,
        value: &impl serde::Serialize,
    ) -> Result<(), QnetError> {
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|source| QnetError::Json { path: path.to_owned(), source })?;
        text.push('\n');
        self.write(path, text.as_bytes())
    }

    /// Restores every changed file and removes the created directory (best effort; returns what
    /// could not be undone).
    pub fn rollback(self) -> Vec<String> {
        let mut failed = Vec::new();
        for (path, old) in self.saved.into_iter().rev() {
            let result = match old {
                Some(bytes) => std::fs::write(&path, bytes),
                None => std::fs::remove_file(&path),
            };
            if let Err(e) = result {
                failed.push(format!("{}: {e}", path.display()));
            }
        }
        if let Some(dir) = self.created
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            failed.push(format!("{}: {e}", dir.display()));
        }
        failed
    }
}

fn read_json(path: &Path) -> Result<Value, QnetError> {
    let text = std::fs::read_to_string(path).map_err(|e| QnetError::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| QnetError::Json { path: path.to_owned(), source })
}

/// Appends `enode` to a peer list file (a missing file starts empty; an enode already listed is
/// not repeated).
fn append_enode(journal: &mut Journal, path: &Path, enode: &str) -> Result<(), QnetError> {
    let mut list: Vec<String> = if path.is_file() {
        serde_json::from_value(read_json(path)?)
            .map_err(|source| QnetError::Json { path: path.to_owned(), source })?
    } else {
        Vec::new()
    };
    if !list.iter().any(|e| e == enode) {
        list.push(enode.to_owned());
    }
    journal.write_json(path, &list)
}

/// Adds `enode` to `static-nodes.json` and `permissioned-nodes.json` of the network and of every
/// node (the new one's own lists are the network's, written by [`write_node`]).
pub fn add_to_peer_lists(
    journal: &mut Journal,
    dir: &Path,
    net: &NetworkJson,
    enode: &str,
) -> Result<(), QnetError> {
    let dirs =
        std::iter::once(dir.to_owned()).chain(net.nodes.iter().map(|n| dir.join(&n.datadir)));
    for d in dirs {
        for file in [STATIC_NODES, PERMISSIONED_NODES] {
            append_enode(journal, &d.join(file), enode)?;
        }
    }
    Ok(())
}

/// Adds the new TM's P2P URL to every other TM's `peer` list (their configs on disk; the
/// running TMs learn it from the new TM's own discovery).
pub fn add_to_tm_peers(
    journal: &mut Journal,
    dir: &Path,
    net: &NetworkJson,
    p2p_url: &str,
) -> Result<(), QnetError> {
    for tm in net.nodes.iter().filter_map(|n| n.tm.as_ref()) {
        let path = dir.join(&tm.config_file);
        let mut config = read_json(&path)?;
        let peers = config.get_mut("peer").and_then(Value::as_array_mut);
        let Some(peers) = peers else { continue };
        if !peers.iter().any(|p| p.get("url").and_then(Value::as_str) == Some(p2p_url)) {
            peers.push(serde_json::json!({ "url": p2p_url }));
        }
        journal.write_json(&path, &config)?;
    }
    Ok(())
}

/// A one-node layout with the network's settings, for the generators `init` uses.
pub fn layout_of(net: &NetworkJson, plan: &NodePlan) -> Layout {
    let block_period = match net.consensus {
        Consensus::Qbft => net.block_period,
        Consensus::Raft => net
            .raft_block_time_ms
            .filter(|ms| *ms != DEFAULT_RAFT_BLOCK_TIME_MS)
            .map(|ms| ms.div_ceil(1000)),
    };
    Layout {
        spec: NetworkSpec {
            consensus: net.consensus,
            validators: 1,
            members: 0,
            chain_id: net.chain_id,
            block_period,
            ports: PortScheme::Compact(plan.http_port),
            forks: Default::default(),
        },
        nodes: vec![plan.clone()],
    }
}

/// The new node's qnode flags: `init`'s, with the network's exact Raft block time, its own
/// metrics port (when the network's nodes serve metrics) and `--raftjoinexisting` when it joins
/// a Raft cluster.
pub fn node_flags(
    net: &NetworkJson,
    plan: &NodePlan,
    account: Address,
    metrics_port: Option<u16>,
    raft_id: Option<u64>,
) -> Vec<String> {
    let mut f = flags::qnode_flags(&layout_of(net, plan), plan, account);
    let mut set = |flag: &str, value: String| {
        if let Some(i) = f.iter().position(|a| a == flag)
            && let Some(v) = f.get_mut(i + 1)
        {
            *v = value;
        }
    };
    if let Some(ms) = net.raft_block_time_ms {
        set("--raftblocktime", ms.to_string());
    }
    if let Some(port) = metrics_port {
        set(METRICS_PORT_FLAG, port.to_string());
    }
    if let Some(id) = raft_id {
        f.extend(["--raftjoinexisting".to_owned(), id.to_string()]);
    }
    f
}

/// The `network.json` fields this module does not know (newer optional ones, such as the
/// metrics URL), taken from the first node's entry; `metrics` is the new node's.
fn entry_template(net: &NetworkJson, metrics: Option<String>) -> Result<NodeEntry, QnetError> {
    let bad = |source| QnetError::Json { path: PathBuf::from(NETWORK_JSON), source };
    let first = net
        .nodes
        .first()
        .ok_or_else(|| QnetError::InvalidOption(format!("{NETWORK_JSON} lists no node to join")))?;
    let mut value = serde_json::to_value(first).map_err(bad)?;
    if let Some(fields) = value.as_object_mut() {
        match metrics {
            Some(url) => fields.insert("metrics".into(), Value::String(url)),
            None => fields.remove("metrics"),
        };
    }
    serde_json::from_value(value).map_err(bad)
}

/// What [`write_node`] needs beyond the plan.
#[derive(Debug, Clone)]
pub struct NodeFiles<'a> {
    /// The node's keys.
    pub keys: &'a crate::generate::keys::NodeKeys,
    /// Its enode URL.
    pub enode: String,
    /// Raft: the id `raft_addPeer` gave it.
    pub raft_id: Option<u64>,
    /// Its metrics port, when the network's nodes serve metrics.
    pub metrics_port: Option<u16>,
}

/// Writes the new node's own files (peer lists, flags, start script, TM config and script,
/// initialised datadir) and returns its `network.json` entry and qnode flags.
pub fn write_node(
    dir: &Path,
    net: &NetworkJson,
    plan: &NodePlan,
    files: &NodeFiles<'_>,
) -> Result<(NodeEntry, Vec<String>), QnetError> {
    let node_dir = dir.join(plan.dir());
    for file in [STATIC_NODES, PERMISSIONED_NODES] {
        let list = read_json(&dir.join(file))?;
        write_json(&node_dir.join(file), &list)?;
    }
    let account = files.keys.account;
    let node_flags = node_flags(net, plan, account, files.metrics_port, files.raft_id);
    write_file(&dir.join(plan.flags_file()), flags::flags_file(&node_flags).as_bytes())?;
    let script =
        flags::start_script(&format!("{}'s qnode", plan.name), 1, "QNODE", "qnode", &node_flags);
    write_executable(&dir.join(plan.start_script()), script.as_bytes())?;
    let tm = write_tm(dir, net, plan, files.keys)?;
    let genesis = dir.join(&net.genesis);
    let genesis = if genesis.is_file() { genesis } else { dir.join(GENESIS) };
    qrs_node::init_datadir(&node_dir, &genesis).map_err(|report| QnetError::InitDatadir {
        datadir: node_dir.clone(),
        message: format!("{report:#}"),
    })?;
    let metrics =
        files.metrics_port.map(|port| format!("http://{HOST}:{port}/debug/metrics/prometheus"));
    let template = entry_template(net, metrics)?;
    // every field this module knows is set; newer optional ones come from the template
    #[allow(clippy::needless_update)]
    let entry = NodeEntry {
        name: plan.name.clone(),
        role: plan.role,
        rpc: plan.rpc_url(),
        ws: plan.ws_url(),
        account,
        account_key_file: plan.account_private_key(),
        account_keystore_file: plan.account_keystore(),
        account_password_file: plan.account_password(),
        node_address: files.keys.nodekey.address(),
        nodekey_file: plan.nodekey(),
        enode: files.enode.clone(),
        p2p_port: plan.p2p_port,
        raft_port: plan.raft_port,
        raft_id: files.raft_id,
        datadir: plan.dir(),
        flags_file: plan.flags_file(),
        start_script: plan.start_script(),
        tm,
        ..template
    };
    Ok((entry, node_flags))
}

/// The TM's Tessera config (peers: every other TM of the network) and start script.
fn write_tm(
    dir: &Path,
    net: &NetworkJson,
    plan: &NodePlan,
    keys: &crate::generate::keys::NodeKeys,
) -> Result<Option<TmEntry>, QnetError> {
    let (Some(tm), Some(public_key)) = (plan.tm, keys.tm_public_key.clone()) else {
        return Ok(None);
    };
    let mut config = tessera::tessera_config(&layout_of(net, plan), plan, tm);
    let peers: Vec<Value> = net
        .nodes
        .iter()
        .filter_map(|n| n.tm.as_ref())
        .map(|t| serde_json::json!({ "url": t.p2p }))
        .collect();
    config["peer"] = Value::Array(peers);
    write_json(&dir.join(plan.tm_config()), &config)?;
    let args = vec!["--configfile".to_owned(), plan.tm_config().display().to_string()];
    let script = flags::start_script(&format!("{}'s qtm", plan.name), 2, "QTM", "qtm", &args);
    write_executable(&dir.join(plan.tm_start_script()), script.as_bytes())?;
    Ok(Some(TmEntry {
        third_party: tessera::url(tm.third_party),
        q2t: tessera::url(tm.q2t),
        p2p: tessera::url(tm.p2p),
        public_key,
        public_key_file: plan.tm_public_key(),
        private_key_file: plan.tm_private_key(),
        config_file: plan.tm_config(),
        start_script: plan.tm_start_script(),
    }))
}

/// Appends the node's services (its qtm, if any, and its qnode) to `docker-compose.yml`, as
/// `init` writes them; a network without that file is left without one.
pub fn add_to_compose(
    journal: &mut Journal,
    dir: &Path,
    net: &NetworkJson,
    plan: &NodePlan,
    node_flags: &[String],
) -> Result<(), QnetError> {
    let path = dir.join("docker-compose.yml");
    let Ok(existing) = std::fs::read_to_string(&path) else { return Ok(()) };
    // the one-node compose file of this node, without the image build (the first service of
    // the network builds it) and without the shared header
    let one = docker::compose(
        &layout_of(net, plan),
        &[node_flags.to_vec()],
        Path::new("."),
        Path::new("Dockerfile"),
        None,
    );
    let Some((_, services)) = one.split_once("\nservices:\n") else { return Ok(()) };
    let mut skip = 0;
    let mut block = String::new();
    for line in services.lines() {
        if line == "    pull_policy: if_not_present" {
            continue;
        }
        if line == "    build:" {
            skip = 2;
            continue;
        }
        if skip > 0 {
            skip -= 1;
            continue;
        }
        block.push_str(line);
        block.push('\n');
    }
    let mut text = existing;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&block);
    journal.write(&path, text.as_bytes())
}
