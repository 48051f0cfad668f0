//! Small file-writing helpers that name the path in every error.

use std::{io::Write as _, path::Path};

use serde::Serialize;

use crate::error::QnetError;

/// `mkdir -p`.
pub fn create_dir(path: &Path) -> Result<(), QnetError> {
    std::fs::create_dir_all(path).map_err(|e| QnetError::io(path, e))
}

fn write_mode(path: &Path, contents: &[u8], mode: u32) -> Result<(), QnetError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| QnetError::io(path, e))?;
    file.write_all(contents).map_err(|e| QnetError::io(path, e))
}

/// Writes a world-readable file.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), QnetError> {
    write_mode(path, contents, 0o644)
}

/// Writes a file only its owner can read (keys, passwords).
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), QnetError> {
    write_mode(path, contents, 0o600)
}

/// Writes an executable script.
pub fn write_executable(path: &Path, contents: &[u8]) -> Result<(), QnetError> {
    write_mode(path, contents, 0o755)
}

/// Writes pretty-printed JSON with a trailing newline.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), QnetError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|source| QnetError::Json { path: path.to_owned(), source })?;
    text.push('\n');
    write_file(path, text.as_bytes())
}

/// Quotes one argument for a POSIX shell (single quotes; `'` becomes `'\''`).
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@".contains(&b))
    {
        return arg.to_owned();
    }
    format!("'{}'", arg.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("--http.port"), "--http.port");
        assert_eq!(shell_quote("*"), "'*'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
