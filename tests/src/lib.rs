//! End-to-end tests that drive whole nodes over JSON-RPC.
