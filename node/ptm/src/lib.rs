//! The node's client of its private transaction manager (PTM): Tessera's Q2T API as GoQuorum
//! uses it, against qtm or Tessera itself.
//!
//! - [`PtmConfig`]: where the TM is (`--ptm.url`, `--ptm.socket`, or the legacy `PRIVATE_CONFIG`
//!   = socket path, TOML file or `ignore`), timeouts and TLS files.
//! - [`PtmClient::connect`]: `GET /upcheck`, `GET /version`, `GET /version/api`, and the
//!   features that the highest API version enables ([`Features`]), as GoQuorum negotiates them.
//! - Calls: [`PtmClient::send`], [`PtmClient::store_raw`], [`PtmClient::send_signed`],
//!   [`PtmClient::receive`] (404 = not a party → `None`; any other failure is retried and then
//!   reported, never turned into "not a party"), [`PtmClient::receive_many`] (a block's payloads,
//!   fetched concurrently), [`PtmClient::is_sender`], [`PtmClient::participants`].
//!
//! Every byte field is base64 on the wire, exactly as Tessera and GoQuorum encode it; the
//! 64-byte payload hash is a [`TmHash`].

mod client;
mod config;
mod error;
mod metrics;
mod model;
mod transport;

pub use client::{Features, PtmClient, ReceiveRetry};
pub use config::{PtmConfig, PtmEndpoint, TlsFiles};
pub use error::PtmError;
pub use model::{
    EncodedPayload, Received, SendRequest, SendResponse, SendSignedRequest, TmHash, base64_of,
};
