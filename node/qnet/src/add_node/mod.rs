//! `qnet add-node`: a new member, validator or RPC node joins a network that `qnet up` runs.
//!
//! 1. Checks: `D/network.json` exists, every process of the network runs and answers, the name
//!    is free, the binaries exist; the node's ports follow the layout ([`plan`]).
//! 2. Generates its keys (node key, account key files, Tessera key pair) as `init` does, and
//!    adds its enode to `static-nodes.json` / `permissioned-nodes.json` of the network and of
//!    every node, and its TM to every TM config's peers ([`files`]).
//! 3. `admin_addPeer` on every running node (which makes a `--permissioned` node re-read its
//!    `permissioned-nodes.json`); Raft: `raft_addPeer` on the leader, the node then starts with
//!    `--raftjoinexisting <id>` ([`join`]).
//! 4. Writes the node's flags, scripts, TM config and datadir, appends it to `network.json` and
//!    `docker-compose.yml`; starts its qtm and qnode like `qnet up --detach` (pid files in
//!    `D/run`, logs in `D/logs`), and waits until the node is peered with every node and synced
//!    to the network's head.
//! 5. QBFT validator: `istanbul_propose(address, true)` on every validator (a majority must take
//!    it), then waits until every node's `istanbul_getValidators` lists it.
//! 6. Waits until `qnet status` would report the whole network healthy.
//!
//! Any failure (or SIGINT/SIGTERM) stops what this run started, undoes the peer and vote calls,
//! restores every changed file and removes the node's directory: the network is as before.

pub mod files;
pub mod join;
pub mod plan;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use qrs_keystore::ScryptCost;
use qrs_network::Enode;

use self::files::{Journal, NodeFiles};
use crate::{
    error::QnetError,
    generate::{keys::generate_node_keys, monitoring},
    layout::{Consensus, HOST, NodePlan, Role},
    network_json::{NETWORK_JSON, NetworkJson, NodeEntry},
    run::{
        NetworkStatus,
        bins::Binaries,
        ports::check_free,
        probe::Probe,
        procs::{Proc, Service, ServiceKind, stop_all},
        up::{install_signal_handlers, stop_requested},
    },
};

/// What to add.
#[derive(Debug, Clone)]
pub struct AddNodeOptions {
    /// The new node's role.
    pub role: Role,
    /// Its name (default: the role with the next free number, e.g. `member4`).
    pub name: Option<String>,
    /// Give it a TM (default: members only).
    pub with_tm: Option<bool>,
    /// Where qnode and qtm are (default: next to qnet, then `$PATH`).
    pub bin_dir: Option<PathBuf>,
    /// How long joining may take.
    pub timeout: Duration,
    /// scrypt cost of its account key file.
    pub scrypt: ScryptCost,
}

/// The node that joined.
#[derive(Debug)]
pub struct Added {
    /// The updated `network.json`.
    pub net: NetworkJson,
    /// The new node's entry.
    pub node: NodeEntry,
    /// The network's health once it joined (all healthy).
    pub status: NetworkStatus,
}

/// Side effects on the running network, undone when joining fails.
#[derive(Debug, Default)]
struct Effects {
    /// The enode every node was told to dial.
    peered: Option<String>,
    /// Raft: the leader and the id it gave.
    raft: Option<(NodeEntry, u64)>,
    /// QBFT: the validators that vote for the address.
    voted: Option<(Vec<NodeEntry>, Address)>,
}

impl Effects {
    fn undo(self, nodes: &[NodeEntry], probe: &Probe) {
        if let Some((voters, address)) = &self.voted {
            let voters: Vec<&NodeEntry> = voters.iter().collect();
            join::discard(&voters, probe, *address);
        }
        if let Some((leader, id)) = &self.raft {
            join::raft_remove_peer(leader, probe, *id);
        }
        if let Some(enode) = &self.peered {
            join::remove_peer_everywhere(nodes, probe, enode);
        }
    }
}

/// Adds a node to the network in `dir` (see the module docs).
pub fn add_node(
    dir: &Path,
    options: &AddNodeOptions,
    report: &mut dyn FnMut(&str),
) -> Result<Added, QnetError> {
    install_signal_handlers();
    if !dir.join(NETWORK_JSON).is_file() {
        return Err(QnetError::NoNetwork(dir.to_owned()));
    }
    let net = NetworkJson::load(dir)?;
    let with_tm = options.with_tm.unwrap_or(options.role == Role::Member);
    let name = options.name.clone().unwrap_or_else(|| plan::default_name(&net, options.role));
    plan::check_name(&net, dir, &name)?;
    let bins = Binaries::find(options.bin_dir.as_deref(), with_tm)?;
    let probe = Probe::new().map_err(QnetError::Unhealthy)?;
    join::check_running(dir, &net, &probe)?;
    let plan = plan::plan_node(dir, &net, &name, options.role, with_tm)?;
    let deadline = Instant::now() + options.timeout;

    let mut journal = Journal::default();
    let mut effects = Effects::default();
    let mut procs: Vec<Proc> = Vec::new();
    let mut run = Joining { dir, net: &net, plan: &plan, probe: &probe, deadline, report };
    match run.join(options, &bins, &mut journal, &mut effects, &mut procs) {
        Ok(added) => {
            procs.into_iter().for_each(Proc::release);
            Ok(added)
        }
        Err(e) => {
            let report = run.report;
            report(&format!("adding {name} failed: undoing it"));
            let (mut tms, mut nodes): (Vec<Proc>, Vec<Proc>) =
                procs.into_iter().partition(|p| p.binary == "qtm");
            stop_all(&mut nodes, report);
            stop_all(&mut tms, report);
            effects.undo(&net.nodes, &probe);
            for problem in journal.rollback() {
                report(&format!("could not restore {problem}"));
            }
            Err(e)
        }
    }
}

/// One add-node run.
struct Joining<'a, 'r> {
    dir: &'a Path,
    net: &'a NetworkJson,
    plan: &'a NodePlan,
    probe: &'a Probe,
    deadline: Instant,
    report: &'r mut dyn FnMut(&str),
}

impl Joining<'_, '_> {
    fn join(
        &mut self,
        options: &AddNodeOptions,
        bins: &Binaries,
        journal: &mut Journal,
        effects: &mut Effects,
        procs: &mut Vec<Proc>,
    ) -> Result<Added, QnetError> {
        let (dir, net, plan, probe) = (self.dir, self.net, self.plan, self.probe);
        journal.created(dir.join(plan.dir()));
        let keys = generate_node_keys(dir, plan, options.scrypt)?;
        let enode = Enode {
            id: keys.nodekey.enode_id(),
            host: HOST.to_owned(),
            port: plan.p2p_port,
            raft_port: plan.raft_port,
            discport: Some(0),
        }
        .to_string();
        (self.report)(&format!("generated {}'s keys: {enode}", plan.name));
        files::add_to_peer_lists(journal, dir, net, &enode)?;
        if let Some(tm) = plan.tm {
            files::add_to_tm_peers(journal, dir, net, &crate::generate::tessera::url(tm.p2p))?;
        }
        effects.peered = Some(enode.clone());
        join::add_peer_everywhere(&net.nodes, probe, &enode)?;
        (self.report)(&format!("admin_addPeer on the {} nodes", net.nodes.len()));
        let raft_id = if net.consensus == Consensus::Raft {
            let leader = join::raft_leader(net, probe)?;
            let id = join::raft_add_peer(leader, probe, &enode)?;
            effects.raft = Some((leader.clone(), id));
            (self.report)(&format!("raft_addPeer on the leader {}: raft id {id}", leader.name));
            Some(id)
        } else {
            None
        };

        let metrics_port = plan::metrics_port(dir, net, plan);
        let node_files = NodeFiles { keys: &keys, enode: enode.clone(), raft_id, metrics_port };
        let (entry, node_flags) = files::write_node(dir, net, plan, &node_files)?;
        let mut new_net = net.clone();
        new_net.nodes.push(entry.clone());
        journal.write_json(&dir.join(NETWORK_JSON), &new_net)?;
        let prometheus = dir.join(monitoring::PROMETHEUS_YML);
        if prometheus.exists() {
            journal.write(&prometheus, monitoring::prometheus_yml_for(&new_net).as_bytes())?;
        }
        files::add_to_compose(journal, dir, net, plan, &node_flags)?;

        self.start(&entry, bins, procs)?;
        if net.consensus == Consensus::Qbft && plan.role == Role::Validator {
            self.vote_in(&new_net, entry.node_address, effects, procs)?;
        }
        let status = self.wait(procs, &entry, "the whole network healthy", || {
            let status = NetworkStatus::collect(dir, &new_net, probe);
            if status.healthy() { Ok(status) } else { Err(status.problems().join("; ")) }
        })?;
        Ok(Added { net: new_net, node: entry, status })
    }

    /// Starts the node's qtm (waiting for `/upcheck`) and qnode, and waits until the node is
    /// peered with every node and at the network's head.
    fn start(
        &mut self,
        entry: &NodeEntry,
        bins: &Binaries,
        procs: &mut Vec<Proc>,
    ) -> Result<(), QnetError> {
        let (dir, probe) = (self.dir, self.probe);
        let mut services = Vec::new();
        if entry.tm.is_some() {
            services.push(Service { node: entry, kind: ServiceKind::Qtm });
        }
        services.push(Service { node: entry, kind: ServiceKind::Qnode });
        check_free(&services)?;
        for s in &services {
            let binary = match (s.kind, &bins.qtm) {
                (ServiceKind::Qtm, Some(qtm)) => qtm,
                _ => &bins.qnode,
            };
            procs.push(Proc::spawn(dir, s, binary)?);
            (self.report)(&format!(
                "started {} (log: {})",
                s.name(),
                dir.join(s.log_file()).display()
            ));
            if let (ServiceKind::Qtm, Some(tm)) = (s.kind, &entry.tm) {
                self.wait(procs, entry, "its TM to answer /upcheck", || {
                    probe.tm_up(&tm.third_party)
                })?;
            }
        }
        let net = self.net;
        let others = &net.nodes;
        let target = join::best_head(others, probe).unwrap_or(0);
        let wanted = others.len() as u64;
        let head = self.wait(procs, entry, "the node to peer and sync", || {
            let peers = probe.rpc_u64(&entry.rpc, "net_peerCount", serde_json::json!([]))?;
            let head = probe.rpc_u64(&entry.rpc, "eth_blockNumber", serde_json::json!([]))?;
            if peers < wanted {
                return Err(format!("{peers} of {wanted} peers"));
            }
            if head < target {
                return Err(format!("head {head}, the network's {target}"));
            }
            Ok(head)
        })?;
        (self.report)(&format!(
            "{} is peered with all {wanted} nodes and synced (head {head})",
            entry.name
        ));
        Ok(())
    }

    /// QBFT: the validators vote the node in; waits until every node's validator set has it.
    fn vote_in(
        &mut self,
        new_net: &NetworkJson,
        address: Address,
        effects: &mut Effects,
        procs: &mut [Proc],
    ) -> Result<(), QnetError> {
        let (net, probe) = (self.net, self.probe);
        let voters = join::validator_nodes(&net.nodes, probe)?;
        effects.voted = Some((voters.iter().map(|v| (*v).clone()).collect(), address));
        let took = join::propose(&voters, probe, address, true);
        if took.len() * 2 <= voters.len() {
            return Err(QnetError::Unhealthy(format!(
                "istanbul_propose({address:#x}, true): only {} of the {} validators took the vote \
                 ({}), not a majority",
                took.len(),
                voters.len(),
                took.join(", ")
            )));
        }
        (self.report)(&format!(
            "istanbul_propose({address:#x}, true) on {}; waiting for the vote to pass",
            took.join(", ")
        ));
        let entry = new_net.nodes.last().cloned().ok_or_else(|| {
            QnetError::Unhealthy("the new node is missing from network.json".into())
        })?;
        self.wait(procs, &entry, "every node's istanbul_getValidators to list it", || {
            for n in &new_net.nodes {
                let set = join::validators(n, probe).map_err(|e| format!("{}: {e}", n.name))?;
                if !set.contains(&address) {
                    return Err(format!("{} has {} validators without it", n.name, set.len()));
                }
            }
            Ok(())
        })?;
        join::discard(&voters, probe, address);
        effects.voted = None;
        (self.report)(&format!("{} is a validator", entry.name));
        Ok(())
    }

    /// Polls `poll` every 500 ms until it succeeds; fails on the deadline (with the last answer
    /// and the end of the node's logs), a signal, or a process of this run exiting.
    fn wait<T>(
        &mut self,
        procs: &mut [Proc],
        entry: &NodeEntry,
        what: &str,
        mut poll: impl FnMut() -> Result<T, String>,
    ) -> Result<T, QnetError> {
        loop {
            if stop_requested() {
                return Err(QnetError::Interrupted);
            }
            if let Some((name, status)) =
                procs.iter_mut().find_map(|p| p.exited().map(|s| (p.name.clone(), s)))
            {
                return Err(self.failure(entry, &format!("{name} exited ({status})")));
            }
            let last = match poll() {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if Instant::now() >= self.deadline {
                return Err(self
                    .failure(entry, &format!("timed out (--timeout) waiting for {what}: {last}")));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// An error naming `problem`, with the end of the new node's logs.
    fn failure(&self, entry: &NodeEntry, problem: &str) -> QnetError {
        let mut text = format!("{}: {problem}", entry.name);
        for kind in [ServiceKind::Qtm, ServiceKind::Qnode] {
            let s = Service { node: entry, kind };
            let tail = s.log_tail(self.dir, 10);
            if !tail.is_empty() {
                let path = self.dir.join(s.log_file());
                text.push_str(&format!("\n--- {} (last lines) ---\n{tail}", path.display()));
            }
        }
        QnetError::Unhealthy(text)
    }
}
