//! The transaction pool: per-sender nonce ordering, pending and queued, replacement.
