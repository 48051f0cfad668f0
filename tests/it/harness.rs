//! The process harness itself: failures are reported, nodes do not outlive their handle.

use std::path::Path;

use qrs_e2e::{QNode, QNodeOptions};

/// A node that cannot start (no genesis in its datadir) is reported with its log, not awaited.
#[test]
fn startup_failure_is_reported_with_the_log() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let err = QNode::start(QNodeOptions::chain(dir.path().join("empty")))
        .expect_err("started without a genesis");
    let text = format!("{err:#}");
    assert!(text.contains("exited"), "{text}");
    assert!(text.contains("qnode init"), "the node's own hint should be in the report: {text}");
    Ok(())
}

/// Dropping the handle kills the process; SIGTERM exits cleanly and a restart serves again.
#[test]
fn drop_kills_and_restart_serves() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut node = QNode::start(QNodeOptions::dev(dir.path().join("node")))?;
    assert!(node.terminate()?.success());
    assert!(!node.is_running());
    node.restart()?;
    assert_eq!(node.rpc()?.block_number()?, 0);
    let pid = node.pid().ok_or_else(|| eyre::eyre!("no pid"))?;
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(node);
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "qnode {pid} outlived its handle");
    Ok(())
}
