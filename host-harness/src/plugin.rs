//! Finding a plugin library and reading a configuration file, with errors that name the file.

use std::path::{Path, PathBuf};

use connector_api::host::{LoadError, PluginLibrary};
use serde_json::Value;

/// The file name of the library of crate `stem` on this platform (`lib{stem}.so`,
/// `{stem}.dll`, `lib{stem}.dylib`).
pub fn library_file(stem: &str) -> String {
    use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
    format!("{DLL_PREFIX}{stem}{DLL_SUFFIX}")
}

/// The Atlassian plugin's crate, whose library `host-harness` finds beside itself.
pub const ATLASSIAN_PLUGIN: &str = "atlassian_plugin";

/// The Atlassian plugin built beside this executable (the same cargo target directory).
pub fn bundled_atlassian_plugin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    // Test executables live one level deeper, in `deps/`.
    let name = library_file(ATLASSIAN_PLUGIN);
    [dir.join(&name), dir.parent()?.join(&name)]
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

/// The largest configuration file read: 1 MiB, a thousand times a real one.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

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
    /// Not a regular file (a directory, a FIFO, a device).
    #[error("{path}: not a regular file; give the path of a JSON configuration file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// Larger than [`MAX_CONFIG_BYTES`].
    #[error("{path}: larger than 1 MiB; a configuration is a small JSON object")]
    TooLarge {
        /// The file.
        path: PathBuf,
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
    use std::io::Read;
    let read_error = |cause| ConfigFileError::Read {
        path: path.to_path_buf(),
        cause,
    };
    // A FIFO would block forever and /dev/zero never end: regular files only, and small.
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(ConfigFileError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(read_error)?
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigFileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    serde_json::from_str(&text).map_err(|cause| ConfigFileError::Json {
        path: path.to_path_buf(),
        cause,
    })
}
