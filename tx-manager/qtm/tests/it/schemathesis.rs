//! Runs `tests/schemathesis.sh` (schemathesis from PyPI) against the served OpenAPI documents:
//! no request may get a 5xx.

use std::process::Command;

use eyre::{Result, bail};

#[test]
fn schemathesis_finds_no_server_errors() -> Result<()> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("QTM_BIN", env!("CARGO_BIN_EXE_qtm"))
        .env("MAX_EXAMPLES", "10")
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("schemathesis failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    // All three documents were exercised.
    assert_eq!(stdout.matches("generated,").count(), 3, "{stdout}");
    Ok(())
}
