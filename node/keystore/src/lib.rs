//! geth v3 keystore files and the node's account manager.
