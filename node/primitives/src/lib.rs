//! Chain primitives shared by the node crates.
//!
//! - [`recover_sender`]: signature recovery with libsecp256k1 (about 4x faster than k256 0.13,
//!   see `performance.md`), aware of Quorum's private transactions.
//! - [`is_private`]: GoQuorum marks a private transaction by `v` = 37/38 on a legacy transaction.
//! - [`decode_raw_transaction`]: EIP-2718 decoding of untrusted bytes with geth's error texts.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod private;
mod recover;
mod tx;

pub use private::{PRIVATE_V_BASE, is_private, private_signature_hash};
pub use recover::{RecoveryError, recover_sender, recover_signer_from_hash};
pub use tx::{DecodeTxError, RecoveredTx, decode_raw_transaction, recover_transaction};
