//! Loading connector libraries: one or many per process, with load errors summarised.
//!
//! abi_stable's `RootModule::load_from_file` caches one module per type per process, so a second
//! plugin path would silently return the first; this loader uses `lib_header_from_path` and
//! `init_root_module` per path instead. Libraries are never unloaded (abi_stable leaks them on
//! purpose), so loading the same path twice returns the same module.

use std::path::{Path, PathBuf};

use abi_stable::library::{LibraryError, RootModuleError, lib_header_from_path};
use abi_stable::std_types::RStr;
use serde_json::Value;

use crate::abi::{ConnectorModule_Ref, PROTOCOL_VERSION};
use crate::capability::Manifest;
use crate::error::{ConnectorError, Result};
use crate::host::client::ConnectorClient;

/// Why a library could not be loaded. Each message names the file and the cause in a few lines.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The path does not exist.
    #[error("{path}: no such file")]
    NotFound {
        /// The library path.
        path: PathBuf,
    },
    /// The file exists but the dynamic loader refused it.
    #[error("{path}: cannot be opened as a shared library: {cause}")]
    Open {
        /// The library path.
        path: PathBuf,
        /// The loader's reason.
        cause: String,
    },
    /// A shared library, but not a connector: it exports no abi_stable root module.
    #[error(
        "{path}: not a connector library (it exports no IDHub connector root module; was it built with `connector_api::export_connector!`?)"
    )]
    NotAConnector {
        /// The library path.
        path: PathBuf,
    },
    /// Built against a connector-api version this host cannot load.
    #[error(
        "{path}: incompatible connector API: this host uses connector-api {host}, the plugin was built with {plugin}; rebuild the plugin against connector-api {host}"
    )]
    IncompatibleApi {
        /// The library path.
        path: PathBuf,
        /// The host's connector-api version.
        host: String,
        /// The plugin's connector-api version.
        plugin: String,
    },
    /// The plugin's ABI types differ from the host's.
    #[error(
        "{path}: ABI layout mismatch: the plugin's connector ABI types differ from this host's ({summary}); rebuild the plugin against connector-api {host}"
    )]
    LayoutMismatch {
        /// The library path.
        path: PathBuf,
        /// The first differences abi_stable reported.
        summary: String,
        /// The host's connector-api version.
        host: String,
    },
    /// The file's own headers describe more than the file holds: truncated or corrupt.
    #[error("{path}: not a loadable library: {reason}")]
    Corrupt {
        /// The library path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The library's root module failed or panicked while initialising.
    #[error("{path}: the connector library failed to initialise: {cause}")]
    Init {
        /// The library path.
        path: PathBuf,
        /// What failed.
        cause: String,
    },
    /// The manifest is unreadable or speaks another protocol.
    #[error("{path}: unusable manifest: {cause}")]
    Manifest {
        /// The library path.
        path: PathBuf,
        /// What is wrong with it.
        cause: String,
    },
}

/// A loaded connector library: its manifest, offline validation, and `open`.
#[derive(Clone)]
pub struct PluginLibrary {
    path: PathBuf,
    module: ConnectorModule_Ref,
    manifest: Manifest,
}

impl std::fmt::Debug for PluginLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginLibrary")
            .field("path", &self.path)
            .field("name", &self.manifest.name)
            .field("version", &self.manifest.version)
            .finish()
    }
}

impl PluginLibrary {
    /// Loads the connector library at `path` and reads its manifest.
    pub fn load(path: impl AsRef<Path>) -> std::result::Result<Self, LoadError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(LoadError::NotFound { path });
        }
        if let Err(reason) = super::image::check(&path) {
            return Err(LoadError::Corrupt { path, reason });
        }
        let module = lib_header_from_path(&path)
            .and_then(|header| header.init_root_module::<ConnectorModule_Ref>())
            .map_err(|e| summarise(&path, e))?;
        let manifest = read_manifest(&path, module)?;
        Ok(PluginLibrary {
            path,
            module,
            manifest,
        })
    }

    /// The library's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connector's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Checks a configuration offline; the error names the field.
    pub fn validate(&self, config: &Value) -> Result<()> {
        let json = config.to_string();
        (self.module.validate())(RStr::from(json.as_str()))
            .into_result()
            .map(drop)
            .map_err(ConnectorError::from_abi)
    }

    /// Opens a connector instance with `config`.
    pub fn open(&self, config: &Value) -> Result<ConnectorClient> {
        let json = config.to_string();
        let obj = (self.module.open())(RStr::from(json.as_str()))
            .into_result()
            .map_err(ConnectorError::from_abi)?;
        Ok(ConnectorClient::new(obj, self.manifest.clone()))
    }
}

fn read_manifest(
    path: &Path,
    module: ConnectorModule_Ref,
) -> std::result::Result<Manifest, LoadError> {
    let bad = |cause: String| LoadError::Manifest {
        path: path.to_path_buf(),
        cause,
    };
    let json = (module.manifest())();
    let value: Value =
        serde_json::from_str(json.as_str()).map_err(|e| bad(format!("not JSON: {e}")))?;
    if let Some(error) = value.get("error") {
        let error: ConnectorError = serde_json::from_value(error.clone())
            .unwrap_or_else(|_| ConnectorError::internal(error.to_string()));
        return Err(bad(format!(
            "the connector failed to describe itself: {error}"
        )));
    }
    let manifest: Manifest =
        serde_json::from_value(value).map_err(|e| bad(format!("malformed: {e}")))?;
    if manifest.protocol_version != PROTOCOL_VERSION {
        return Err(bad(format!(
            "the connector speaks protocol {}, this host {PROTOCOL_VERSION}",
            manifest.protocol_version
        )));
    }
    Ok(manifest)
}

/// Turns abi_stable's error, up to thousands of lines, into one of a few lines.
fn summarise(path: &Path, error: LibraryError) -> LoadError {
    let path = path.to_path_buf();
    let host = crate::API_VERSION.to_owned();
    match error {
        LibraryError::OpenError { err, .. } => LoadError::Open {
            path,
            cause: first_line(&with_sources(&*err)),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NotAConnector { path },
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => {
            LoadError::IncompatibleApi {
                path,
                host,
                plugin: actual_version.to_string(),
            }
        }
        LibraryError::ParseVersionError(e) => LoadError::IncompatibleApi {
            path,
            host,
            plugin: format!("an unparseable version ({e})"),
        },
        LibraryError::RootModule { err, .. } => LoadError::Init {
            path,
            cause: match err {
                RootModuleError::Unwound => "its root module panicked".into(),
                other => first_line(&other.to_string()),
            },
        },
        LibraryError::AbiInstability(e) => {
            let text = e.to_string();
            match incompatible_package_version(&text) {
                Some(plugin) => LoadError::IncompatibleApi { path, host, plugin },
                None => LoadError::LayoutMismatch {
                    path,
                    summary: abi_error_lines(&text),
                    host,
                },
            }
        }
        LibraryError::InvalidAbiHeader(_) | LibraryError::InvalidCAbi { .. } => {
            LoadError::LayoutMismatch {
                path,
                summary: "built with an incompatible abi_stable or compiler C ABI".into(),
                host,
            }
        }
        LibraryError::Many(errors) => match errors.into_iter().next() {
            Some(first) => summarise(&path, first),
            None => LoadError::Init {
                path,
                cause: "unknown load error".into(),
            },
        },
    }
}

/// An error with the causes it carries: on Windows libloading says only "LoadLibraryExW
/// failed" and keeps the system's reason ("The specified module could not be found. (os error
/// 126)") in `source()`; on Linux dlerror's text already says it all and there is no source.
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = inner.source();
    }
    text
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// abi_stable reports a package-version mismatch of the interface crate as a layout error:
/// "incompatible package versions" followed by "Expected: <host> Found: <plugin>" lines.
fn incompatible_package_version(text: &str) -> Option<String> {
    let at = text.find("incompatible package versions")?;
    let rest = &text[at..];
    let found = rest.find("Found:")?;
    rest[found + "Found:".len()..]
        .split_whitespace()
        .next()
        .map(|v| {
            v.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.')
                .to_owned()
        })
}

/// The most telling distinct errors of an abi_stable layout report, at most three, each as
/// "what (expected X, found Y)". The report lists each as `Error:what`, then `Expected:` and
/// `Found:` lines each followed by an indented value.
fn abi_error_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut errors: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(what) = line.strip_prefix("Error:") else {
            continue;
        };
        let value_after = |label: &str| {
            lines[i + 1..]
                .iter()
                .take(6)
                .position(|l| *l == label)
                .and_then(|p| lines.get(i + 1 + p + 1))
                .map(|v| shorten(v, 60))
        };
        let entry = match (value_after("Expected:"), value_after("Found:")) {
            (Some(expected), Some(found)) => {
                format!("{} (expected {expected}, found {found})", what.trim())
            }
            _ => what.trim().to_owned(),
        };
        if !errors.contains(&entry) {
            errors.push(entry);
        }
    }
    if errors.is_empty() {
        return shorten(&first_line(text), 200);
    }
    // Type and package mismatches name the cause; size and prefix differences follow from them.
    let rank = |e: &String| {
        [
            "mismatched type",
            "mismatched package",
            "too many fields",
            "incompatible package",
        ]
        .iter()
        .position(|p| e.starts_with(p))
        .unwrap_or(9)
    };
    errors.sort_by_key(rank);
    errors.truncate(3);
    errors.join("; ")
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error as libloading reports one on Windows: a bare summary, the reason as its source.
    #[derive(Debug, thiserror::Error)]
    #[error("LoadLibraryExW failed")]
    struct Bare(#[source] std::io::Error);

    #[test]
    fn a_load_error_keeps_the_reason_its_source_carries() {
        let error = Bare(std::io::Error::other(
            "Bad EXE format for %1. (os error 193)",
        ));
        assert_eq!(
            with_sources(&error),
            "LoadLibraryExW failed: Bad EXE format for %1. (os error 193)"
        );
        let whole = std::io::Error::other("libx.so: cannot open shared object file");
        assert_eq!(
            with_sources(&whole),
            "libx.so: cannot open shared object file"
        );
    }
}
