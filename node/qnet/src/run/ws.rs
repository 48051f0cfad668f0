//! A minimal blocking WebSocket JSON-RPC client (RFC 6455 handshake, masked text frames out,
//! unmasked frames in, pings answered): enough to check that a node's `ws://` endpoint answers
//! ([`ws_rpc`]) and to follow a subscription ([`WsConn`], `qnet bench`).

use std::{
    io::{BufRead as _, BufReader, Write as _},
    net::{TcpStream, ToSocketAddrs as _},
    time::Duration,
};

use serde_json::{Value, json};

/// An open WebSocket connection (after the handshake) for JSON-RPC text frames.
#[derive(Debug)]
pub struct WsConn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    url: String,
}

impl WsConn {
    /// Connects to `url` (`ws://host:port[/path]`) and completes the handshake; reads and
    /// writes time out after `timeout` (`None`: reads block until a frame or [`Self::closer`]).
    pub fn connect(
        url: &str,
        timeout: Duration,
        read_timeout: Option<Duration>,
    ) -> Result<Self, String> {
        let rest = url.strip_prefix("ws://").ok_or_else(|| format!("{url}: not a ws:// URL"))?;
        let (authority, path) =
            rest.split_once('/').map_or((rest, "/"), |(a, _)| (a, &rest[a.len()..]));
        let addr = authority
            .to_socket_addrs()
            .map_err(|e| format!("{url}: {e}"))?
            .next()
            .ok_or_else(|| format!("{url}: no address"))?;
        let io = |e: std::io::Error| format!("{url}: {e}");
        let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        stream.set_write_timeout(Some(timeout)).map_err(io)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: cW5ldC1wcm9iZS1rZXkxMg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).map_err(io)?;
        let mut reader = BufReader::new(stream.try_clone().map_err(io)?);
        let mut status = String::new();
        reader.read_line(&mut status).map_err(io)?;
        if !status.contains(" 101 ") {
            return Err(format!("{url}: handshake refused: {}", status.trim()));
        }
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_err(io)? == 0 || line.trim().is_empty() {
                break;
            }
        }
        stream.set_read_timeout(read_timeout).map_err(io)?;
        Ok(Self { stream, reader, url: url.to_owned() })
    }

    /// Sends one JSON value as a text frame.
    pub fn send(&mut self, value: &Value) -> Result<(), String> {
        let body = value.to_string();
        self.stream
            .write_all(&frame(0x1, body.as_bytes()))
            .map_err(|e| format!("{}: {e}", self.url))
    }

    /// The next JSON text message (answering pings on the way); an error once the server closes
    /// the connection or the socket fails.
    pub fn recv(&mut self) -> Result<Value, String> {
        let url = &self.url;
        loop {
            let (opcode, payload) =
                read_frame(&mut self.reader).map_err(|e| format!("{url}: {e}"))?;
            match opcode {
                0x1 => return serde_json::from_slice(&payload).map_err(|e| format!("{url}: {e}")),
                0x8 => return Err(format!("{url}: closed by the server")),
                0x9 => {
                    let pong = frame(0xA, &payload);
                    self.stream.write_all(&pong).map_err(|e| format!("{url}: {e}"))?;
                }
                _ => {} // pong, binary: not for us
            }
        }
    }

    /// A handle that ends a blocked [`Self::recv`] (from another thread) by shutting the socket.
    pub fn closer(&self) -> Result<TcpStream, String> {
        self.stream.try_clone().map_err(|e| format!("{}: {e}", self.url))
    }
}

/// Sends one JSON-RPC request over a fresh WebSocket connection to `url` and returns its
/// `result` (or the error as text).
pub fn ws_rpc(url: &str, method: &str, params: Value, timeout: Duration) -> Result<Value, String> {
    let mut conn = WsConn::connect(url, timeout, Some(timeout))?;
    conn.send(&json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }))?;
    let resp = conn.recv()?;
    match resp.get("error") {
        Some(err) => Err(format!("{method}: {err}")),
        None => Ok(resp.get("result").cloned().unwrap_or(Value::Null)),
    }
}

/// A final, masked frame of `opcode` (clients must mask; the key need not be secret here).
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

/// Reads one (unfragmented) frame: opcode and unmasked payload.
fn read_frame(reader: &mut impl std::io::Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    reader.read_exact(&mut head)?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            reader.read_exact(&mut b)?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            reader.read_exact(&mut b)?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mask = if head[1] & 0x80 != 0 {
        let mut m = [0u8; 4];
        reader.read_exact(&mut m)?;
        Some(m)
    } else {
        None
    };
    if len > 16 << 20 {
        return Err(std::io::Error::other(format!("frame of {len} bytes")));
    }
    let mut payload = vec![0u8; len as usize];
    reader.read_exact(&mut payload)?;
    if let Some(m) = mask {
        payload.iter_mut().zip(m.iter().cycle()).for_each(|(b, k)| *b ^= k);
    }
    Ok((head[0] & 0x0f, payload))
}

#[cfg(test)]
mod tests {
    use super::{frame, read_frame};

    #[test]
    fn frames_roundtrip_at_every_length_class() {
        for len in [0usize, 125, 126, 65_535, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let bytes = frame(0x1, &payload);
            let (opcode, back) = read_frame(&mut bytes.as_slice()).unwrap();
            assert_eq!((opcode, back), (1, payload), "length {len}");
        }
    }
}
