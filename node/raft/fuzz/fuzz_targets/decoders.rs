//! Every decoder of bytes a Raft node receives from peers or reads from blocks: the `extraData`
//! seal, the `ConfChange` peer address, the snapshot payload and enode URLs. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_raft::{Enode, PeerAddress, SnapshotData, header::decode_extra};

fuzz_target!(|data: &[u8]| {
    let _ = decode_extra(data);
    let _ = PeerAddress::from_rlp(data);
    let _ = SnapshotData::from_rlp(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Enode::parse(s);
    }
});
