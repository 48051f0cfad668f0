//! Inclusion tracking: `eth_subscribe newHeads` over one node's WebSocket; on every header,
//! each new block's transaction hashes (`eth_getBlockByNumber(n, false)` over HTTP) are
//! stamped with the header's arrival time.

use std::{
    net::{Shutdown, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use serde_json::{Value, json};

use super::{
    rpc::{Rpc, quantity},
    state::RunState,
};
use crate::run::ws::WsConn;

/// A running tracker.
#[derive(Debug)]
pub struct Tracker {
    closer: TcpStream,
    handle: JoinHandle<Result<(), String>>,
    closing: Arc<AtomicBool>,
}

/// Subscribes to `ws` and follows blocks after `after` (read through `rpc_url`).
pub fn start(
    ws: &str,
    rpc_url: &str,
    after: u64,
    rpc: &Rpc,
    state: &Arc<RunState>,
) -> Result<Tracker, String> {
    let mut conn = WsConn::connect(ws, Duration::from_secs(5), Some(Duration::from_secs(10)))?;
    conn.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}),
    )?;
    let answer = conn.recv()?;
    if let Some(err) = answer.get("error") {
        return Err(format!("eth_subscribe newHeads on {ws}: {err}"));
    }
    // from here on reads block until a header arrives or `stop` shuts the socket
    let closer = conn.closer()?;
    closer.set_read_timeout(None).map_err(|e| format!("{ws}: {e}"))?;
    let (rpc, url, st) = (rpc.clone(), rpc_url.to_owned(), state.clone());
    let closing = Arc::new(AtomicBool::new(false));
    let flag = closing.clone();
    let handle = std::thread::spawn(move || follow(conn, &rpc, &url, after + 1, &st, &flag));
    Ok(Tracker { closer, handle, closing })
}

fn follow(
    mut conn: WsConn,
    rpc: &Rpc,
    url: &str,
    mut next: u64,
    state: &RunState,
    closing: &AtomicBool,
) -> Result<(), String> {
    loop {
        let msg = match conn.recv() {
            Ok(m) => m,
            Err(_) if closing.load(Ordering::Relaxed) => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(head) = quantity(&msg["params"]["result"]["number"]) else { continue };
        let at = Instant::now();
        while next <= head {
            let block =
                rpc.call(url, "eth_getBlockByNumber", json!([format!("{next:#x}"), false]))?;
            let hashes: Vec<B256> = block["transactions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h: &Value| serde_json::from_value(h.clone()).ok())
                .collect();
            state.block(next, &hashes, at);
            next += 1;
        }
    }
}

impl Tracker {
    /// Stops following; the tracker's error, if it failed before.
    pub fn stop(self) -> Result<(), String> {
        self.closing.store(true, Ordering::Relaxed);
        let _ = self.closer.shutdown(Shutdown::Both);
        self.handle.join().map_err(|_| "the block tracker panicked".to_owned())?
    }

    /// Whether it ended (a failure: it runs until stopped).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}
