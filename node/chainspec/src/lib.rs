//! GoQuorum genesis.json parsing, fork schedule and the genesis block.
