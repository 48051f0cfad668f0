//! libp2p networking.
