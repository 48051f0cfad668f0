//! Enode URLs from static-nodes.json / permissioned-nodes.json / admin_addPeer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_network::Enode;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(enode) = Enode::parse(s)
    {
        let again = Enode::parse(&enode.to_string()).ok();
        assert_eq!(again.as_ref(), Some(&enode));
        let _ = enode.multiaddr();
        let _ = enode.peer_id();
    }
});
