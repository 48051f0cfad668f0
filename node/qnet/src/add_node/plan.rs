//! The new node's name and ports.
//!
//! Ports follow the network's layout: the network's names are planned again with the
//! quickstart scheme and with the compact scheme from the first node's RPC port; the scheme that
//! reproduces every existing node's ports plans the new node as the next one (so `member4` of a
//! quickstart network gets 20006/20007 and TM 9084/9104/9004). When neither reproduces the
//! network (it was edited) or a planned port is taken or used by the network (its metrics ports
//! come from the nodes' flags), the new node takes the next free ports above every port the
//! network uses.

use std::{collections::BTreeSet, net::TcpListener, path::Path};

use crate::{
    error::QnetError,
    layout::{HOST, NodePlan, PortScheme, Role, TmPorts, plan_ports},
    network_json::{NetworkJson, NodeEntry},
    run::ports::url_port,
};

/// The role a node's ports were planned with: nodes with a TM take a member's ports.
fn port_role(role: Role, tm: bool) -> Role {
    if tm { Role::Member } else { role }
}

/// `member4` after `member1..3`, `validator5`, `rpcnode2`: the role's prefix with one more than
/// the highest number in use.
pub fn default_name(net: &NetworkJson, role: Role) -> String {
    let prefix = role.to_string();
    let highest = net
        .nodes
        .iter()
        .filter_map(|n| {
            let rest = n.name.strip_prefix(&prefix)?;
            if rest.is_empty() { Some(1) } else { rest.parse::<u64>().ok() }
        })
        .max()
        .unwrap_or(0);
    format!("{prefix}{}", highest + 1)
}

/// A name becomes a directory, a docker-compose service and a log file name.
pub fn check_name(net: &NetworkJson, dir: &Path, name: &str) -> Result<(), QnetError> {
    let valid = !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with("-tm");
    if !valid {
        return Err(QnetError::InvalidOption(format!(
            "--name {name:?}: use lowercase letters, digits and '-', starting with a letter (and \
             not ending in -tm)"
        )));
    }
    if net.node(name).is_some() {
        return Err(QnetError::InvalidOption(format!("--name {name}: the network has that node")));
    }
    let path = dir.join(name);
    if path.exists() {
        return Err(QnetError::InvalidOption(format!(
            "--name {name}: {} already exists",
            path.display()
        )));
    }
    Ok(())
}

/// The ports named in `n`'s qnode flags (`--port`, `--http.port`, `--pprof.port`, ...), with
/// their flag.
fn flag_ports(dir: &Path, n: &NodeEntry) -> Vec<(String, u16)> {
    let args = n.qnode_args(dir).unwrap_or_default();
    args.windows(2)
        .filter(|w| w[0].starts_with("--") && w[0].ends_with("port"))
        .filter_map(|w| Some((w[0].clone(), w[1].parse().ok()?)))
        .collect()
}

/// Every port the network uses: those of `network.json` and of the nodes' flags (metrics).
pub fn used_ports(dir: &Path, net: &NetworkJson) -> BTreeSet<u16> {
    let mut used: BTreeSet<u16> = net.nodes.iter().flat_map(entry_ports).collect();
    used.extend(net.nodes.iter().flat_map(|n| flag_ports(dir, n)).map(|(_, p)| p));
    used
}

/// The flag of a node's metrics server.
pub const METRICS_PORT_FLAG: &str = "--pprof.port";

/// The new node's metrics port when the network's nodes serve metrics (`--pprof.port`): the
/// one after the highest of theirs, or the next free port above everything in use.
pub fn metrics_port(dir: &Path, net: &NetworkJson, plan: &NodePlan) -> Option<u16> {
    let theirs: Vec<u16> = net
        .nodes
        .iter()
        .flat_map(|n| flag_ports(dir, n))
        .filter(|(f, _)| f == METRICS_PORT_FLAG)
        .map(|(_, p)| p)
        .collect();
    let highest = theirs.iter().max()?;
    let mut used = used_ports(dir, net);
    used.extend(plan_ports_of(plan));
    let free = |p: u16| !used.contains(&p) && bindable(p);
    let next = highest.checked_add(1).filter(|p| free(*p));
    next.or_else(|| {
        let above = used.iter().next_back().copied().unwrap_or(*highest);
        (above.checked_add(1)?..=u16::MAX).find(|p| free(*p))
    })
}

/// Every port `n` listens on.
fn entry_ports(n: &NodeEntry) -> Vec<u16> {
    let mut ports = vec![n.p2p_port];
    ports.extend(url_port(&n.rpc));
    ports.extend(url_port(&n.ws));
    ports.extend(n.raft_port);
    if let Some(tm) = &n.tm {
        ports.extend([&tm.third_party, &tm.q2t, &tm.p2p].into_iter().filter_map(|u| url_port(u)));
    }
    ports
}

fn plan_ports_of(p: &NodePlan) -> Vec<u16> {
    let mut ports = vec![p.http_port, p.ws_port, p.p2p_port];
    ports.extend(p.raft_port);
    if let Some(tm) = p.tm {
        ports.extend([tm.third_party, tm.q2t, tm.p2p]);
    }
    ports
}

fn same_ports(plan: &NodePlan, n: &NodeEntry) -> bool {
    let tm_same = match (&plan.tm, &n.tm) {
        (Some(t), Some(e)) => {
            url_port(&e.third_party) == Some(t.third_party)
                && url_port(&e.q2t) == Some(t.q2t)
                && url_port(&e.p2p) == Some(t.p2p)
        }
        (None, None) => true,
        _ => false,
    };
    tm_same
        && url_port(&n.rpc) == Some(plan.http_port)
        && url_port(&n.ws) == Some(plan.ws_port)
        && n.p2p_port == plan.p2p_port
        && n.raft_port == plan.raft_port
}

fn bindable(port: u16) -> bool {
    TcpListener::bind((HOST, port)).is_ok()
}

/// The layout's next node, if one of the schemes reproduces the network.
fn layout_plan(net: &NetworkJson, name: &str, role: Role, with_tm: bool) -> Option<NodePlan> {
    let raft = net.consensus == crate::layout::Consensus::Raft;
    let mut names: Vec<(String, Role)> =
        net.nodes.iter().map(|n| (n.name.clone(), port_role(n.role, n.tm.is_some()))).collect();
    names.push((name.to_owned(), port_role(role, with_tm)));
    let first = net.nodes.first().and_then(|n| url_port(&n.rpc))?;
    [PortScheme::Quickstart, PortScheme::Compact(first)].iter().find_map(|scheme| {
        let mut plans = plan_ports(&names, raft, scheme).ok()?;
        let new = plans.pop()?;
        plans.iter().zip(&net.nodes).all(|(p, n)| same_ports(p, n)).then_some(new)
    })
}

/// Plans the new node: its name, role and ports (free now, and unused by the network).
pub fn plan_node(
    dir: &Path,
    net: &NetworkJson,
    name: &str,
    role: Role,
    with_tm: bool,
) -> Result<NodePlan, QnetError> {
    let used = used_ports(dir, net);
    if let Some(mut plan) = layout_plan(net, name, role, with_tm) {
        if !with_tm {
            plan.tm = None;
        }
        let ports = plan_ports_of(&plan);
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        if ports.iter().all(|p| !used.contains(p) && bindable(*p))
            && distinct.len() == ports.len() - usize::from(plan.ws_port == plan.http_port)
        {
            plan.role = role;
            return Ok(plan);
        }
    }
    // the next free ports above the network's
    let mut next = u32::from(used.iter().next_back().copied().unwrap_or(30_000)) + 1;
    let mut take = || -> Result<u16, QnetError> {
        loop {
            let port = u16::try_from(next).map_err(|_| {
                QnetError::InvalidOption("no free port left above the network's ports".into())
            })?;
            next += 1;
            if !used.contains(&port) && bindable(port) {
                return Ok(port);
            }
        }
    };
    let http_port = take()?;
    let ws_port = if role == Role::Validator && !with_tm { http_port } else { take()? };
    let p2p_port = take()?;
    let raft_port =
        if net.consensus == crate::layout::Consensus::Raft { Some(take()?) } else { None };
    let tm = if with_tm {
        Some(TmPorts { third_party: take()?, q2t: take()?, p2p: take()? })
    } else {
        None
    };
    Ok(NodePlan { name: name.to_owned(), role, http_port, ws_port, p2p_port, raft_port, tm })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        generate::{InitOptions, init},
        layout::{Consensus, Layout, NetworkSpec},
    };

    fn generated(spec: NetworkSpec) -> (tempfile::TempDir, NetworkJson) {
        let dir = tempfile::tempdir().unwrap();
        let options = InitOptions {
            force: false,
            scrypt: qrs_keystore::ScryptCost::Light,
            repo: std::path::PathBuf::from("."),
        };
        let net = init(dir.path(), &Layout::new(spec).unwrap(), &options).unwrap();
        (dir, net)
    }

    #[test]
    fn names_take_the_next_number_of_their_role() {
        let (dir, net) = generated(NetworkSpec { members: 2, ..NetworkSpec::default() });
        assert_eq!(default_name(&net, Role::Member), "member3");
        assert_eq!(default_name(&net, Role::Validator), "validator5");
        assert_eq!(default_name(&net, Role::Rpcnode), "rpcnode2");
        check_name(&net, dir.path(), "member3").unwrap();
        for bad in ["member1", "Member3", "3member", "", "member3-tm", "a/b", "a b"] {
            assert!(check_name(&net, dir.path(), bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_next_node_follows_the_quickstart_ports() {
        let (_dir, net) = generated(NetworkSpec::default());
        let m4 = layout_plan(&net, "member4", Role::Member, true).unwrap();
        assert_eq!((m4.http_port, m4.ws_port, m4.p2p_port), (20006, 20007, 30311));
        assert_eq!(m4.tm, Some(TmPorts { third_party: 9084, q2t: 9104, p2p: 9004 }));
        let v5 = layout_plan(&net, "validator5", Role::Validator, false).unwrap();
        assert_eq!((v5.http_port, v5.ws_port, v5.p2p_port, v5.tm), (21005, 21005, 30311, None));
    }

    #[test]
    fn the_next_node_follows_a_compact_range_unless_the_network_was_edited() {
        let spec = NetworkSpec {
            consensus: Consensus::Raft,
            validators: 1,
            members: 1,
            ports: PortScheme::Compact(41000),
            ..NetworkSpec::default()
        };
        let (_dir, mut net) = generated(spec);
        // validator1 41000-41002, rpcnode 41003-41006, member1 41007-41013
        let m2 = layout_plan(&net, "member2", Role::Member, true).unwrap();
        assert_eq!(
            (m2.http_port, m2.ws_port, m2.p2p_port, m2.raft_port),
            (41014, 41015, 41016, Some(41017))
        );
        assert_eq!(m2.tm, Some(TmPorts { third_party: 41018, q2t: 41019, p2p: 41020 }));
        net.nodes[1].p2p_port = 45000;
        assert_eq!(layout_plan(&net, "member2", Role::Member, true), None);
    }

    #[test]
    fn ports_in_the_flags_count_as_used() {
        let (dir, net) = generated(NetworkSpec {
            validators: 1,
            members: 0,
            ports: PortScheme::Compact(42000),
            ..NetworkSpec::default()
        });
        let flags = dir.path().join(&net.nodes[0].flags_file);
        let mut text = std::fs::read_to_string(&flags).unwrap();
        text.push_str("--pprof.port\n43000\n");
        std::fs::write(&flags, text).unwrap();
        let used = used_ports(dir.path(), &net);
        assert!(used.contains(&43000) && used.contains(&42000), "{used:?}");
        // a network whose nodes serve no metrics gives the new node none either
        let plan = layout_plan(&net, "member1", Role::Member, true).unwrap();
        assert_eq!(
            metrics_port(dir.path(), &NetworkJson { nodes: vec![], ..net.clone() }, &plan),
            None
        );
    }
}
