//! Request/response: `Status` and `Blocks` through a RequestHandler and through events.

use std::sync::Arc;

use alloy_primitives::B256;
use bytes::Bytes;
use qrs_network::{NetworkError, NetworkEvent, NodeKey, Request, RequestHandler, Response, Status};

use crate::common::{config, eventually, next_matching, start};

struct Chain {
    blocks: Vec<Bytes>,
}

impl RequestHandler for Chain {
    fn status(&self) -> Status {
        Status {
            head_number: self.blocks.len() as u64 - 1,
            head_hash: B256::repeat_byte(0xaa),
            genesis_hash: B256::repeat_byte(0x11),
        }
    }
    fn blocks(&self, from: u64, count: u32) -> Vec<Bytes> {
        self.blocks.iter().skip(from as usize).take(count as usize).cloned().collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_range_and_status_requests() {
    let chain =
        Chain { blocks: (0..100u8).map(|i| Bytes::from(vec![i; 1000 + i as usize])).collect() };
    let expected = chain.blocks.clone();
    let mut c = config();
    c.request_handler = Some(Arc::new(chain));
    c.max_blocks_per_request = 50;
    let server = start(NodeKey::generate(), c).await;
    let mut c = config();
    c.static_nodes = vec![server.enode.clone()];
    let client = start(NodeKey::generate(), c).await;
    eventually("connected", || client.handle.peers().len() == 1).await;
    let peer = server.key.peer_id();

    let status = client.handle.request(peer, Request::Status).await.unwrap();
    assert_eq!(
        status,
        Response::Status(Status {
            head_number: 99,
            head_hash: B256::repeat_byte(0xaa),
            genesis_hash: B256::repeat_byte(0x11)
        })
    );
    let Response::Blocks(got) =
        client.handle.request(peer, Request::Blocks { from: 10, count: 20 }).await.unwrap()
    else {
        panic!("wrong response kind")
    };
    assert_eq!(got, expected[10..30]);
    // Capped by max_blocks_per_request, and by the chain's end.
    let Response::Blocks(got) =
        client.handle.request(peer, Request::Blocks { from: 0, count: 1000 }).await.unwrap()
    else {
        panic!("wrong response kind")
    };
    assert_eq!(got, expected[..50]);
    let Response::Blocks(got) =
        client.handle.request(peer, Request::Blocks { from: 90, count: 50 }).await.unwrap()
    else {
        panic!("wrong response kind")
    };
    assert_eq!(got, expected[90..]);

    // Not connected: a clear error.
    let stranger = NodeKey::generate().peer_id();
    assert!(matches!(
        client.handle.request(stranger, Request::Status).await,
        Err(NetworkError::NotConnected(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_surface_as_events_without_handler() {
    let server = start(NodeKey::generate(), config()).await;
    let mut events = server.handle.events();
    let mut c = config();
    c.static_nodes = vec![server.enode.clone()];
    c.request_timeout = std::time::Duration::from_secs(2);
    let client = start(NodeKey::generate(), c).await;
    eventually("connected", || client.handle.peers().len() == 1).await;
    let peer = server.key.peer_id();

    let ask = tokio::spawn({
        let h = client.handle.clone();
        async move { h.request(peer, Request::Blocks { from: 7, count: 2 }).await }
    });
    let (from, req, responder) = next_matching(&mut events, |ev| match ev {
        NetworkEvent::Request { from, req, responder } => Some((from, req, responder)),
        _ => None,
    })
    .await;
    assert_eq!(from, client.key.peer_id());
    assert_eq!(req, Request::Blocks { from: 7, count: 2 });
    responder.respond(Response::Blocks(vec![Bytes::from_static(b"b7")]));
    assert_eq!(ask.await.unwrap().unwrap(), Response::Blocks(vec![Bytes::from_static(b"b7")]));

    // A responder that is dropped: the requester gets an error, not a hang.
    let ask = tokio::spawn({
        let h = client.handle.clone();
        async move { h.request(peer, Request::Status).await }
    });
    let responder = next_matching(&mut events, |ev| match ev {
        NetworkEvent::Request { responder, .. } => Some(responder),
        _ => None,
    })
    .await;
    drop(responder);
    assert!(ask.await.unwrap().is_err());
}
