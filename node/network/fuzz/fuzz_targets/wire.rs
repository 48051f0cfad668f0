//! Every decoder of peer bytes: frame header, request, response, transaction batch.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use qrs_network::wire::{FRAME_HEADER_LEN, Request, Response, decode_frame_header, decode_tx_batch};

fuzz_target!(|data: &[u8]| {
    if let Some(header) = data.first_chunk::<FRAME_HEADER_LEN>() {
        let _ = decode_frame_header(header, 1 << 20);
    }
    if let Ok(req) = Request::decode(data) {
        assert_eq!(Request::decode(&req.encode()).ok(), Some(req));
    }
    if let Ok(resp) = Response::decode(Bytes::copy_from_slice(data)) {
        assert_eq!(Response::decode(resp.encode()).ok(), Some(resp));
    }
    if let Ok(txs) = decode_tx_batch(Bytes::copy_from_slice(data)) {
        assert_eq!(decode_tx_batch(qrs_network::encode_tx_batch(&txs)).ok(), Some(txs));
    }
});
