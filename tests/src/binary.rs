//! Locating the `qnode` binary the tests run.

use std::path::PathBuf;

use eyre::{WrapErr, eyre};

/// Environment variable that overrides where the `qnode` binary is looked for.
pub const QNODE_BIN_ENV: &str = "QNODE_BIN";

/// The `qnode` binary: `$QNODE_BIN` when set, otherwise next to the test executable
/// (`target/<profile>/deps/<test>` → `target/<profile>/qnode`). Fails loudly when it is missing.
pub fn qnode_bin() -> eyre::Result<PathBuf> {
    let path = match std::env::var_os(QNODE_BIN_ENV) {
        Some(p) => PathBuf::from(p),
        None => {
            let exe = std::env::current_exe().wrap_err("locating the test executable")?;
            let profile_dir = exe.parent().and_then(|deps| deps.parent()).ok_or_else(|| {
                eyre!("test executable {} has no target/<profile>/deps parent", exe.display())
            })?;
            profile_dir.join("qnode")
        }
    };
    if !path.is_file() {
        return Err(eyre!(
            "qnode binary not found at {}: build it first with `cargo build --workspace --bins` \
             (the end-to-end tests run the real binary), or point {QNODE_BIN_ENV} at one",
            path.display()
        ));
    }
    Ok(path)
}

/// Another binary of this workspace next to the test executable (`target/<profile>/<name>`),
/// or `$<env_var>` when set. Fails loudly when it is missing.
pub fn sibling_bin(name: &str, env_var: &str) -> eyre::Result<PathBuf> {
    let path = match std::env::var_os(env_var) {
        Some(p) => PathBuf::from(p),
        None => {
            let qnode = qnode_bin()?;
            qnode.with_file_name(name)
        }
    };
    if !path.is_file() {
        return Err(eyre!(
            "{name} binary not found at {}: build it first with `cargo build --workspace --bins`, \
             or point {env_var} at one",
            path.display()
        ));
    }
    Ok(path)
}
