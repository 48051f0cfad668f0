//! One validator is its own quorum (ceil(2·1/3) = 1) and makes blocks alone.

use crate::harness::{eventually, node_key, start_network};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_validator_makes_blocks() {
    crate::init_tracing();
    let (nodes, _tmp) = start_network(1, &[node_key(0).address()]).await;
    eventually(20, "block 3", || nodes[0].head().0 >= 3).await;
    let header = nodes[0].chain.reader().unwrap().header(3).unwrap().unwrap();
    let committers = qrs_qbft::seal::qbft_committers(&header).unwrap();
    assert_eq!(committers, vec![node_key(0).address()]);
    for n in nodes {
        n.stop().await;
    }
}
