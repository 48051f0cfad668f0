//! Compiled Solidity test contracts (artifacts produced by solc-js, committed).
