//! GoQuorum peer list files: `static-nodes.json`, `permissioned-nodes.json`,
//! `disallowed-nodes.json`. Each is a JSON array of enode URL strings.

use std::path::Path;

use crate::{
    enode::Enode,
    error::{NetworkError, NetworkResult},
};

/// Reads a JSON array of enode URLs.
pub fn load_enode_list(path: impl AsRef<Path>) -> NetworkResult<Vec<Enode>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| NetworkError::file(path, e))?;
    parse_enode_list(&text).map_err(|e| match e {
        ListError::Json(source) => NetworkError::InvalidEnodeList { path: path.to_owned(), source },
        ListError::Enode(e) => e,
    })
}

/// Reads `<datadir>/static-nodes.json`.
pub fn load_static_nodes(path: impl AsRef<Path>) -> NetworkResult<Vec<Enode>> {
    load_enode_list(path)
}

/// Reads `<datadir>/permissioned-nodes.json`.
pub fn load_permissioned_nodes(path: impl AsRef<Path>) -> NetworkResult<Vec<Enode>> {
    load_enode_list(path)
}

/// Reads `<datadir>/disallowed-nodes.json`.
pub fn load_disallowed_nodes(path: impl AsRef<Path>) -> NetworkResult<Vec<Enode>> {
    load_enode_list(path)
}

enum ListError {
    Json(serde_json::Error),
    Enode(NetworkError),
}

fn parse_enode_list(text: &str) -> Result<Vec<Enode>, ListError> {
    let urls: Vec<String> = serde_json::from_str(text).map_err(ListError::Json)?;
    urls.iter().map(|u| Enode::parse(u).map_err(ListError::Enode)).collect()
}
