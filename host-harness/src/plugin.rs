//! Finding a plugin library and reading a configuration file, with errors that name the file.

use std::path::{Path, PathBuf};

use connector_api::host::{LoadError, PluginLibrary};
use serde_json::Value;

/// The file name of the Atlassian plugin on this platform.
pub const ATLASSIAN_PLUGIN_FILE: &str = if cfg!(target_os = "windows") {
    "atlassian_plugin.dll"
} else if cfg!(target_os = "macos") {
    "libatlassian_plugin.dylib"
} else {
    "libatlassian_plugin.so"
};

/// The Atlassian plugin built beside this executable (the same cargo target directory).
pub fn bundled_atlassian_plugin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    // Test executables live one level deeper, in `deps/`.
    [
        dir.join(ATLASSIAN_PLUGIN_FILE),
        dir.parent()?.join(ATLASSIAN_PLUGIN_FILE),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// Loads a plugin library.
pub fn load(path: &Path) -> Result<PluginLibrary, LoadError> {
    let started = std::time::Instant::now();
    let library = PluginLibrary::load(path);
    match &library {
        Ok(lib) => tracing::info!(
            path = %path.display(),
            connector = %lib.manifest().name,
            version = %lib.manifest().version,
            api = %lib.manifest().api_version,
            ms = started.elapsed().as_millis() as u64,
            "loaded the connector library"
        ),
        Err(e) => tracing::debug!(path = %path.display(), "the library did not load: {e}"),
    }
    library
}

/// Why a configuration file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("{path}: cannot read the configuration file: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path}: the configuration file is not valid JSON: {cause}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: serde_json::Error,
    },
}

/// Reads a JSON configuration file.
pub fn read_config(path: &Path) -> Result<Value, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ConfigFileError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    serde_json::from_str(&text).map_err(|cause| ConfigFileError::Json {
        path: path.to_path_buf(),
        cause,
    })
}
