//! The node's transaction manager as the chain's source of private payloads.

use alloy_primitives::B256;
use alloy_primitives::B512;
use qrs_chain::{PrivatePayloads, ReceivedPayload, TxPrivacyMetadata};
use qrs_ptm::{PtmClient, TmHash};
use tokio::runtime::{Handle, RuntimeFlavor};

/// Requests in flight while fetching a block's payloads.
const CONCURRENCY: usize = 64;

/// Fetches a block's private payloads from the TM, all at once (`receive_many`).
#[derive(Debug, Clone)]
pub struct PtmPayloads {
    client: PtmClient,
    runtime: Handle,
}

impl PtmPayloads {
    /// A payload source over `client`, running its requests on `runtime`.
    pub fn new(client: PtmClient, runtime: Handle) -> Self {
        Self { client, runtime }
    }
}

impl PrivatePayloads for PtmPayloads {
    fn fetch(&self, hashes: &[B512]) -> Result<Vec<Option<Vec<u8>>>, String> {
        Ok(self
            .fetch_with_metadata(hashes)?
            .into_iter()
            .map(|r| r.map(|(payload, _)| payload))
            .collect())
    }

    fn fetch_with_metadata(&self, hashes: &[B512]) -> Result<Vec<Option<ReceivedPayload>>, String> {
        let hashes: Vec<TmHash> = hashes.iter().map(|h| TmHash(h.0)).collect();
        let fetch = self.client.receive_many(&hashes, CONCURRENCY);
        // the chain calls this on a blocking thread; on a runtime worker, leave the runtime first
        let received = match Handle::try_current() {
            Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.runtime.block_on(fetch))
            }
            _ => self.runtime.block_on(fetch),
        }
        .map_err(|e| format!("{}: {e}", self.client.endpoint()))?;
        Ok(received
            .into_iter()
            .map(|r| {
                r.map(|r| {
                    let metadata = TxPrivacyMetadata {
                        privacy_flag: r.privacy_flag,
                        affected_contract_transactions: r
                            .affected_hashes()
                            .into_iter()
                            .map(|h| B512::from(h.0))
                            .collect(),
                        exec_hash: B256::from(r.exec_hash_bytes()),
                    };
                    (r.payload, metadata)
                })
            })
            .collect())
    }
}
