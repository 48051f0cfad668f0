//! The TCP ports a service listens on (from `network.json`), checked free before `qnet up`
//! starts anything.

use std::net::TcpListener;

use super::procs::{Service, ServiceKind};
use crate::{error::QnetError, layout::HOST};

/// The port of `http://host:port[/path]` or `ws://...`.
pub fn url_port(url: &str) -> Option<u16> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

/// Every port `service` listens on, with what it is for (`member1 RPC`, ...), without
/// duplicates (validators serve WS on the RPC port).
pub fn service_ports(service: &Service<'_>) -> Vec<(u16, String)> {
    let node = service.node;
    let name = &node.name;
    let mut out: Vec<(Option<u16>, String)> = Vec::new();
    match service.kind {
        ServiceKind::Qnode => {
            out.push((url_port(&node.rpc), format!("{name} RPC {}", node.rpc)));
            out.push((url_port(&node.ws), format!("{name} WS {}", node.ws)));
            out.push((Some(node.p2p_port), format!("{name} p2p")));
            out.push((node.raft_port, format!("{name} raft")));
        }
        ServiceKind::Qtm => {
            if let Some(tm) = &node.tm {
                out.push((url_port(&tm.third_party), format!("{name} TM ThirdParty")));
                out.push((url_port(&tm.q2t), format!("{name} TM Q2T")));
                out.push((url_port(&tm.p2p), format!("{name} TM P2P")));
            }
        }
    }
    let mut ports: Vec<(u16, String)> = Vec::new();
    for (port, what) in out {
        if let Some(port) = port.filter(|p| !ports.iter().any(|(q, _)| q == p)) {
            ports.push((port, what));
        }
    }
    ports
}

/// Fails with the first port of `services` that cannot be bound on the network's host.
pub fn check_free(services: &[Service<'_>]) -> Result<(), QnetError> {
    for service in services {
        for (port, what) in service_ports(service) {
            if TcpListener::bind((HOST, port)).is_err() {
                return Err(QnetError::PortInUse { port, what });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::url_port;

    #[test]
    fn ports_of_urls() {
        assert_eq!(url_port("http://127.0.0.1:8545"), Some(8545));
        assert_eq!(url_port("ws://127.0.0.1:8546/"), Some(8546));
        assert_eq!(url_port("http://127.0.0.1:9081/upcheck"), Some(9081));
        assert_eq!(url_port("http://127.0.0.1"), None);
    }
}
