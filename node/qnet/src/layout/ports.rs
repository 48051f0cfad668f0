//! Port allocation: the quickstart's fixed ranges, or a compact sequence from a base port.

use super::{NodePlan, Role, TmPorts};
use crate::error::QnetError;

/// Hands out ports in sequence, failing instead of wrapping past 65535.
struct Seq(u32);

impl Seq {
    fn next(&mut self) -> Result<u16, QnetError> {
        let port = u16::try_from(self.0)
            .map_err(|_| QnetError::InvalidOption("port range runs past 65535".into()))?;
        self.0 += 1;
        Ok(port)
    }
}

fn offset(base: u16, index: usize, step: usize) -> Result<u16, QnetError> {
    index
        .checked_mul(step)
        .and_then(|o| u32::try_from(o).ok())
        .and_then(|o| u16::try_from(u32::from(base) + o).ok())
        .ok_or_else(|| QnetError::InvalidOption(format!("port {base} + {index} runs past 65535")))
}

pub(super) fn quickstart_ports(
    names: &[(String, Role)],
    raft: bool,
) -> Result<Vec<NodePlan>, QnetError> {
    let (mut validator, mut member) = (0usize, 0usize);
    let mut nodes = Vec::new();
    for (index, (name, role)) in names.iter().enumerate() {
        let (http_port, ws_port, tm) = match role {
            Role::Validator => {
                let p = offset(21001, validator, 1)?;
                validator += 1;
                (p, p, None)
            }
            Role::Rpcnode => (8545, 8546, None),
            Role::Member => {
                let http = offset(20000, member, 2)?;
                let tm = TmPorts {
                    third_party: offset(9081, member, 1)?,
                    q2t: offset(9101, member, 1)?,
                    p2p: offset(9001, member, 1)?,
                };
                member += 1;
                (http, offset(http, 1, 1)?, Some(tm))
            }
        };
        let raft_port = if raft { Some(offset(53000, index, 1)?) } else { None };
        nodes.push(NodePlan {
            name: name.clone(),
            role: *role,
            http_port,
            ws_port,
            p2p_port: offset(30303, index, 1)?,
            raft_port,
            tm,
        });
    }
    Ok(nodes)
}

pub(super) fn compact_ports(
    names: &[(String, Role)],
    raft: bool,
    base: u16,
) -> Result<Vec<NodePlan>, QnetError> {
    let mut seq = Seq(u32::from(base));
    let mut nodes = Vec::new();
    for (name, role) in names {
        let http_port = seq.next()?;
        let ws_port = if *role == Role::Validator { http_port } else { seq.next()? };
        let p2p_port = seq.next()?;
        let raft_port = if raft { Some(seq.next()?) } else { None };
        let tm = if *role == Role::Member {
            Some(TmPorts { third_party: seq.next()?, q2t: seq.next()?, p2p: seq.next()? })
        } else {
            None
        };
        nodes.push(NodePlan {
            name: name.clone(),
            role: *role,
            http_port,
            ws_port,
            p2p_port,
            raft_port,
            tm,
        });
    }
    Ok(nodes)
}

/// The quickstart's metrics port (`--pprof.port 9545` in every container); on one host the
/// nodes take 9545, 9546, ... in layout order.
pub const QUICKSTART_METRICS_PORT: u16 = 9545;

impl super::Layout {
    /// `node`'s metrics port (`--metrics --pprof --pprof.port`): 9545 + its position with the
    /// quickstart ports, or the ports after every other port of the network with a compact
    /// range. A node that is not (yet) in the layout gets the next position. 0 (any free port)
    /// if that runs past 65535.
    pub fn metrics_port(&self, node: &NodePlan) -> u16 {
        let index = self.nodes.iter().position(|n| n.name == node.name).unwrap_or(self.nodes.len());
        let port = match self.spec.ports {
            super::PortScheme::Quickstart => offset(QUICKSTART_METRICS_PORT, index, 1),
            super::PortScheme::Compact(_) => {
                let last = self.nodes.iter().chain([node]).flat_map(node_ports).max();
                let first = last.map_or(0, |p| u32::from(p) + 1);
                u16::try_from(first)
                    .map_err(|_| QnetError::InvalidOption("no metrics port".into()))
                    .and_then(|first| offset(first, index, 1))
            }
        };
        port.unwrap_or(0)
    }
}

/// Every port of a node's plan (not its metrics port).
fn node_ports(n: &NodePlan) -> Vec<u16> {
    let mut v = vec![n.http_port, n.ws_port, n.p2p_port];
    v.extend(n.raft_port);
    v.extend(n.tm.iter().flat_map(|t| [t.third_party, t.q2t, t.p2p]));
    v
}
