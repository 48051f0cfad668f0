//! Ethereum and GoQuorum JSON-RPC namespaces over jsonrpsee (HTTP and WS).
