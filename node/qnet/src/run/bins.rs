//! Finding the binaries `qnet up` runs: `--bin-dir` if given, else next to the `qnet` binary,
//! else `$PATH`.

use std::path::{Path, PathBuf};

use crate::error::QnetError;

/// The binaries of a network.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `qnode`.
    pub qnode: PathBuf,
    /// `qtm` (only looked up when some node has a TM).
    pub qtm: Option<PathBuf>,
}

impl Binaries {
    /// Finds `qnode`, and `qtm` when `need_qtm`; a missing one is an error naming it.
    pub fn find(bin_dir: Option<&Path>, need_qtm: bool) -> Result<Self, QnetError> {
        let qnode = find("qnode", "qrs-node", bin_dir)?;
        let qtm = if need_qtm { Some(find("qtm", "qrs-qtm", bin_dir)?) } else { None };
        Ok(Self { qnode, qtm })
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    path.is_file()
}

/// Finds the executable `name` (built by `package`).
pub fn find(
    name: &'static str,
    package: &'static str,
    bin_dir: Option<&Path>,
) -> Result<PathBuf, QnetError> {
    let dirs: Vec<PathBuf> = match bin_dir {
        Some(dir) => vec![dir.to_owned()],
        None => {
            let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_owned));
            let path = std::env::var_os("PATH").unwrap_or_default();
            beside.into_iter().chain(std::env::split_paths(&path)).collect()
        }
    };
    if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p)) {
        return Ok(found);
    }
    let searched = match bin_dir {
        Some(dir) => format!("--bin-dir {}", dir.display()),
        None => {
            let beside = dirs.first().map_or_else(String::new, |d| d.display().to_string());
            format!("{beside} next to qnet, and $PATH")
        }
    };
    Err(QnetError::MissingBinary { name, package, searched })
}
