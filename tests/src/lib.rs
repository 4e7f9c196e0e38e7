//! Where the tests find the libraries they load: the real `.so` files cargo built.
//!
//! README's test command builds them (`cargo build --workspace --all-targets`) before
//! `cargo test`. The changed-ABI fixture lives outside the workspace and is built here, once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use connector_api::host::PluginLibrary;

/// The cargo profile directory the running test was built into (e.g. `target/debug`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    // target/debug/deps/<test>-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable lives in target/<profile>/deps")
        .to_path_buf()
}

fn dylib(dir: &Path, stem: &str) -> PathBuf {
    use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
    dir.join(format!("{DLL_PREFIX}{stem}{DLL_SUFFIX}"))
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: build the libraries first with `cargo build --workspace --all-targets`",
        path.display()
    );
    path
}

/// The example connector of connector-api (`examples/memory_connector.rs`).
pub fn memory_connector() -> PathBuf {
    built(dylib(&profile_dir().join("examples"), "memory_connector"))
}

/// The Atlassian plugin.
pub fn atlassian_plugin() -> PathBuf {
    built(dylib(&profile_dir(), "atlassian_plugin"))
}

/// The fixture connector that breaks the contract on purpose.
pub fn broken_connector() -> PathBuf {
    built(dylib(&profile_dir(), "broken_connector"))
}

/// A library built against connector-api 1.0.0.
pub fn incompatible_version() -> PathBuf {
    built(dylib(&profile_dir(), "incompatible_version"))
}

/// A library built against a changed copy of the ABI, built on first use into
/// `target/fixtures` (its own target directory, so it never waits on the workspace's lock).
pub fn changed_abi() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            let target = profile_dir().parent().unwrap().join("fixtures");
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .arg("build")
                .arg("--quiet")
                .arg("--manifest-path")
                .arg(workspace.join("tests/fixtures/changed-abi/Cargo.toml"))
                .arg("--target-dir")
                .arg(&target)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the changed-ABI fixture failed");
            built(dylib(&target.join("debug"), "changed_abi"))
        })
        .clone()
}

/// Loads a library that must load.
pub fn load(path: &Path) -> PluginLibrary {
    PluginLibrary::load(path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
}

/// The `host-harness` binary.
pub fn host_harness() -> PathBuf {
    let name = if cfg!(target_os = "windows") {
        "host-harness.exe"
    } else {
        "host-harness"
    };
    built(profile_dir().join(name))
}

/// The conformance suite a fixture ships, in `tests/fixtures/<name>/conformance.json`.
pub fn fixture_suite(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .join("conformance.json")
}

/// A file of the workspace, by its path from the workspace root.
pub fn workspace_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(path)
}
