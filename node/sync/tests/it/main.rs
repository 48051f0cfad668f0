//! Integration tests of qrs-sync: real chains (MDBX in temp dirs) and real qrs-network services
//! on 127.0.0.1 port 0.

mod abuse;
mod blocks;
mod support;
mod txs;
