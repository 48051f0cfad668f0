//! Arbitrary text as JSON-RPC `params` through `Args::parse` and the typed argument readers
//! the handlers use (`req`/`opt` of block selectors, addresses, quantities, hashes, bytes):
//! errors, never panics.
//! Also the `eth_call`/`eth_estimateGas` object (`CallRequest`) and its conversions.
#![no_main]

use alloy_primitives::{Address, B256, Bytes, U64, U256};
use libfuzzer_sys::fuzz_target;
use qrs_rpc::{Args, BlockSel, CallRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(args) = Args::parse(Some(text)) else { return };
    for i in 0..3 {
        let _ = args.req::<BlockSel>(i);
        let _ = args.opt::<BlockSel>(i);
        let _ = args.req::<Address>(i);
        let _ = args.opt::<U64>(i);
        let _ = args.req::<U256>(i);
        let _ = args.req::<B256>(i);
        let _ = args.req::<Bytes>(i);
        let _ = args.req::<Vec<BlockSel>>(i);
        let _ = args.req::<serde_json::Map<String, serde_json::Value>>(i);
        let _ = args.raw(i);
        if let Ok(req) = args.req::<CallRequest>(i) {
            let _ = req.calldata();
            let _ = req.gas_limit();
            let _ = req.check_privacy_fields();
            let _ = req.to_tx_env(50_000_000);
        }
    }
    let _ = args.at_most(2);
});
