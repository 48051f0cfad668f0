//! Helpers: spawn nodes on 127.0.0.1:0 and wait for conditions.

use std::time::Duration;

use qrs_network::{Enode, NetworkConfig, NetworkEvent, NetworkHandle, NodeKey, spawn};
use tokio::sync::mpsc;

pub struct Node {
    pub key: NodeKey,
    pub handle: NetworkHandle,
    pub enode: Enode,
}

pub fn config() -> NetworkConfig {
    let mut c = NetworkConfig::new("127.0.0.1:0".parse().unwrap());
    c.dial_backoff_initial = Duration::from_millis(50);
    c.dial_backoff_max = Duration::from_millis(500);
    c
}

pub async fn start(key: NodeKey, config: NetworkConfig) -> Node {
    let (handle, bound) = spawn(key.clone(), config).await.unwrap();
    assert_ne!(bound.port(), 0);
    let enode = handle.local_enode();
    assert_eq!(enode.port, bound.port());
    assert_eq!(enode.id, key.enode_id());
    Node { key, handle, enode }
}

/// Polls `cond` every 20 ms for up to 10 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Next event matching `pick`, within 10 s.
pub async fn next_matching<T>(
    rx: &mut mpsc::Receiver<NetworkEvent>,
    mut pick: impl FnMut(NetworkEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("event timeout")
            .expect("events closed");
        if let Some(v) = pick(ev) {
            return v;
        }
    }
}
