//! Block and transaction execution on revm with Quorum's rules.
