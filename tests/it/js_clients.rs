//! The ethers v6 / web3.js v4 / web3.js 1.x suites (`tests/js`) against a real dev node.

use std::{path::Path, process::Command, time::Instant};

use qrs_e2e::binary::{QNODE_BIN_ENV, qnode_bin};

#[test]
fn js_clients() -> eyre::Result<()> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("js").join("run-against-dev-node.sh");
    let bin = qnode_bin()?;
    let started = Instant::now();
    let out = Command::new("bash").arg(&script).env(QNODE_BIN_ENV, &bin).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed ({}) after {:?}\n---- stdout ----\n{stdout}\n---- stderr ----\n{stderr}",
        script.display(),
        out.status,
        started.elapsed()
    );
    // node --test's TAP summary: every test ran and none failed.
    assert!(stdout.contains("# fail 0"), "no '# fail 0' in the TAP summary:\n{stdout}");
    assert!(!stdout.contains("# pass 0\n"), "no JS test passed:\n{stdout}");
    Ok(())
}
