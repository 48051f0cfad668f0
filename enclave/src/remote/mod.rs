//! Tessera's enclave REST API (`app: "ENCLAVE"`): JSON models ([`wire`]), the axum server that
//! `qenclave` runs ([`server`]) and the [`RemoteEnclave`] client ([`client`]).
//!
//! Payloads crossing the API are LEGACY-encoded. Errors are `text/plain`; our server adds the
//! headers [`ERROR_KIND_HEADER`] / [`ERROR_KEY_HEADER`] so our client can rebuild typed errors.

pub mod client;
pub mod server;
pub mod wire;

pub use client::RemoteEnclave;
pub use server::router;

/// Response header naming the error kind (quorum-rs extension).
pub const ERROR_KIND_HEADER: &str = "qrs-enclave-error";
/// Response header carrying the public key an error is about (quorum-rs extension).
pub const ERROR_KEY_HEADER: &str = "qrs-enclave-error-key";
