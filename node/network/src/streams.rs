//! Per-stream tasks: the long-lived message stream (one writer task per connected peer, one
//! reader task per inbound stream) and the one-shot request streams.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use futures::{
    AsyncReadExt, AsyncWriteExt, StreamExt,
    io::{BufReader, BufWriter, ReadHalf, WriteHalf},
};
use libp2p::{PeerId, Stream, StreamProtocol};
use tokio::sync::{mpsc, oneshot};

use crate::{
    error::{NetworkError, NetworkResult},
    events::{NetworkEvent, PenaltyReason, Responder},
    metrics::{self, EGRESS, INGRESS},
    shared::{OutFrame, Shared},
    wire::{
        FRAME_HEADER_LEN, Request, Response, WireError, decode_frame_header, encode_frame_header,
    },
};

/// Protocol of the long-lived message stream.
pub(crate) const MSG_PROTOCOL: StreamProtocol = StreamProtocol::new("/qrs/msg/1");
/// Protocol of request/response streams.
pub(crate) const REQ_PROTOCOL: StreamProtocol = StreamProtocol::new("/qrs/req/1");
/// Requests are a few bytes; anything bigger is abuse.
const MAX_REQUEST_BYTES: usize = 64;
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
const IO_BUFFER: usize = 64 * 1024;
/// Frames written before a flush, so a burst becomes few large yamux frames.
const MAX_FRAMES_PER_FLUSH: usize = 256;

/// An open outbound message stream: the write half, and the read half that only watches for
/// the remote closing or resetting it (the remote never writes on it).
struct OpenStream {
    writer: BufWriter<WriteHalf<Stream>>,
    closed: ReadHalf<Stream>,
}

/// Drains a peer's queue into one outbound stream, reopening it after errors.
pub(crate) async fn run_writer(
    peer: PeerId,
    mut control: libp2p_stream::Control,
    mut queue: mpsc::Receiver<OutFrame>,
) {
    let mut stream: Option<OpenStream> = None;
    loop {
        let first = tokio::select! {
            frame = queue.recv() => match frame {
                Some(f) => f,
                None => return,
            },
            _ = watch_closed(stream.as_mut()) => {
                tracing::debug!(target: "net::stream", %peer, "remote closed the message stream");
                stream = None;
                continue;
            }
        };
        let open = match stream.as_mut() {
            Some(s) => s,
            None => {
                match tokio::time::timeout(OPEN_TIMEOUT, control.open_stream(peer, MSG_PROTOCOL))
                    .await
                {
                    Ok(Ok(s)) => {
                        let (closed, writer) = s.split();
                        stream.insert(OpenStream {
                            writer: BufWriter::with_capacity(IO_BUFFER, writer),
                            closed,
                        })
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(target: "net::stream", %peer, %e, "cannot open message stream; message dropped");
                        continue;
                    }
                    Err(_) => {
                        tracing::debug!(target: "net::stream", %peer, "opening message stream timed out; message dropped");
                        continue;
                    }
                }
            }
        };
        let writer = &mut open.writer;
        let mut result = write_frame(writer, &first).await;
        let mut written = 1;
        while result.is_ok() && written < MAX_FRAMES_PER_FLUSH {
            let Ok(next) = queue.try_recv() else { break };
            result = write_frame(writer, &next).await;
            written += 1;
        }
        if result.is_ok() {
            result = writer.flush().await;
        }
        if let Err(e) = result {
            tracing::debug!(target: "net::stream", %peer, %e, "message stream broke; reopening on next message");
            stream = None;
        }
    }
}

/// Completes when the remote closes or resets the stream; pending forever without a stream.
async fn watch_closed(stream: Option<&mut OpenStream>) {
    match stream {
        Some(s) => {
            let mut byte = [0u8; 1];
            // Any outcome (EOF, reset, or an unexpected byte) ends our use of this stream.
            let _ = s.closed.read(&mut byte).await;
        }
        None => futures::future::pending().await,
    }
}

async fn write_frame(
    writer: &mut BufWriter<WriteHalf<Stream>>,
    (topic, bytes): &OutFrame,
) -> std::io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    writer.write_all(&encode_frame_header(*topic, len)).await?;
    writer.write_all(bytes).await?;
    EGRESS.add(metrics::bytes(FRAME_HEADER_LEN + bytes.len()));
    Ok(())
}

/// Accepts inbound message streams and spawns a reader for each.
pub(crate) async fn accept_messages(
    shared: Arc<Shared>,
    mut incoming: libp2p_stream::IncomingStreams,
) {
    while let Some((peer, stream)) = incoming.next().await {
        tokio::spawn(run_reader(shared.clone(), peer, stream));
    }
}

async fn run_reader(shared: Arc<Shared>, peer: PeerId, stream: Stream) {
    let mut reader = BufReader::with_capacity(IO_BUFFER, stream);
    let limit = shared.limits.max_message_bytes;
    loop {
        let mut header = [0u8; FRAME_HEADER_LEN];
        if reader.read_exact(&mut header).await.is_err() {
            return; // closed
        }
        let (topic, len) = match decode_frame_header(&header, limit) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(target: "net::stream", %peer, %e, "bad frame; dropping the stream");
                shared.penalise(peer, e.into());
                return;
            }
        };
        let mut payload = vec![0u8; len];
        if reader.read_exact(&mut payload).await.is_err() {
            return;
        }
        INGRESS.add(metrics::bytes(FRAME_HEADER_LEN + len));
        shared
            .deliver(NetworkEvent::Message { from: peer, topic, bytes: Bytes::from(payload) })
            .await;
    }
}

/// Accepts inbound request streams and answers each on its own task.
pub(crate) async fn accept_requests(
    shared: Arc<Shared>,
    mut incoming: libp2p_stream::IncomingStreams,
) {
    while let Some((peer, stream)) = incoming.next().await {
        tokio::spawn(serve_request(shared.clone(), peer, stream));
    }
}

async fn serve_request(shared: Arc<Shared>, peer: PeerId, mut stream: Stream) {
    let timeout = shared.limits.request_timeout;
    let request =
        match tokio::time::timeout(timeout, read_body(&mut stream, MAX_REQUEST_BYTES)).await {
            Ok(Ok(body)) => Request::decode(&body),
            Ok(Err(ReadError::Wire(e))) => Err(e),
            Ok(Err(ReadError::Io(_))) | Err(_) => return,
        };
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            shared.penalise(peer, e.into());
            return;
        }
    };
    let Some(response) = answer(&shared, peer, request).await else { return };
    let body = fit_response(response, shared.limits.max_response_bytes).encode();
    let Ok(len) = u32::try_from(body.len()) else { return };
    let written = async {
        stream.write_all(&len.to_be_bytes()).await?;
        stream.write_all(&body).await?;
        EGRESS.add(metrics::bytes(4 + body.len()));
        stream.close().await
    };
    if let Err(e) = tokio::time::timeout(timeout, written)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    {
        tracing::debug!(target: "net::request", %peer, %e, "could not write response");
    }
}

async fn answer(shared: &Shared, peer: PeerId, request: Request) -> Option<Response> {
    let max_blocks = shared.limits.max_blocks_per_request;
    if let Some(handler) = shared.handler.clone() {
        let task = tokio::task::spawn_blocking(move || match request {
            Request::Status => Response::Status(handler.status()),
            Request::Blocks { from, count } => {
                Response::Blocks(handler.blocks(from, count.min(max_blocks)))
            }
        });
        return task.await.ok();
    }
    let (tx, rx) = oneshot::channel();
    shared
        .deliver(NetworkEvent::Request { from: peer, req: request, responder: Responder(tx) })
        .await;
    tokio::time::timeout(shared.limits.request_timeout, rx).await.ok()?.ok()
}

/// Drops trailing blocks until the encoded response fits `limit`.
fn fit_response(response: Response, limit: usize) -> Response {
    match response {
        Response::Blocks(mut blocks) => {
            let mut size = 5 + blocks.iter().map(|b| 4 + b.len()).sum::<usize>();
            while size > limit {
                match blocks.pop() {
                    Some(b) => size -= 4 + b.len(),
                    None => break,
                }
            }
            Response::Blocks(blocks)
        }
        other => other,
    }
}

/// Sends `request` to `peer` on a fresh stream and waits for the answer.
pub(crate) async fn request(
    shared: &Shared,
    peer: PeerId,
    request: Request,
) -> NetworkResult<Response> {
    if !shared.is_connected(&peer) {
        return Err(NetworkError::NotConnected(peer));
    }
    let mut control = shared.control.lock().clone();
    let limit = shared.limits.max_response_bytes;
    let exchange = async {
        let mut stream = control.open_stream(peer, REQ_PROTOCOL).await.map_err(|e| {
            NetworkError::RequestFailed { peer, source: std::io::Error::other(e.to_string()) }
        })?;
        let io = |source| NetworkError::RequestFailed { peer, source };
        let body = request.encode();
        let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
        stream.write_all(&len.to_be_bytes()).await.map_err(io)?;
        stream.write_all(&body).await.map_err(io)?;
        EGRESS.add(metrics::bytes(4 + body.len()));
        stream.close().await.map_err(io)?;
        match read_body(&mut stream, limit).await {
            Ok(body) => Ok(body),
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(NetworkError::NoResponse(peer))
            }
            Err(ReadError::Io(e)) => Err(io(e)),
            Err(ReadError::Wire(e)) => {
                shared.penalise(peer, e.clone().into());
                Err(e.into())
            }
        }
    };
    let body = tokio::time::timeout(shared.limits.request_timeout, exchange)
        .await
        .map_err(|_| NetworkError::Timeout(peer))??;
    let response = Response::decode(body).and_then(|r| check_matches(&request, r));
    response.map_err(|e| {
        shared.penalise(peer, PenaltyReason::Malformed(e.clone()));
        NetworkError::Malformed(e)
    })
}

fn check_matches(request: &Request, response: Response) -> Result<Response, WireError> {
    match (request, &response) {
        (Request::Status, Response::Status(_)) => Ok(response),
        (Request::Blocks { count, .. }, Response::Blocks(b)) if b.len() <= *count as usize => {
            Ok(response)
        }
        (_, Response::Status(_)) => Err(WireError::UnknownTag(0)),
        (_, Response::Blocks(_)) => Err(WireError::UnknownTag(1)),
    }
}

enum ReadError {
    Io(std::io::Error),
    Wire(WireError),
}

async fn read_body(stream: &mut Stream, limit: usize) -> Result<Bytes, ReadError> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await.map_err(ReadError::Io)?;
    let size = u32::from_be_bytes(len) as usize;
    if size > limit {
        return Err(ReadError::Wire(WireError::TooLarge { size, limit }));
    }
    let mut body = vec![0u8; size];
    stream.read_exact(&mut body).await.map_err(ReadError::Io)?;
    INGRESS.add(metrics::bytes(4 + size));
    Ok(Bytes::from(body))
}
