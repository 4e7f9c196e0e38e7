//! Loading libraries through the real loader: several plugins in one process, and every kind of
//! library that must be refused, each with a short error that names the cause.

use std::path::PathBuf;

use connector_api::host::{LoadError, PluginLibrary};
use connector_tests::{
    atlassian_plugin, broken_connector, changed_abi, incompatible_version, load, memory_connector,
    profile_dir,
};

fn load_err(path: &std::path::Path) -> LoadError {
    match PluginLibrary::load(path) {
        Ok(lib) => panic!("{} loaded as {:?}", path.display(), lib.manifest().name),
        Err(e) => {
            let text = e.to_string();
            assert!(text.lines().count() <= 3, "the error is long:\n{text}");
            assert!(
                text.len() < 600,
                "the error is long: {} chars:\n{text}",
                text.len()
            );
            e
        }
    }
}

#[test]
fn three_plugins_load_side_by_side_in_one_process() {
    let memory = load(&memory_connector());
    let atlassian = load(&atlassian_plugin());
    let broken = load(&broken_connector());
    assert_eq!(memory.manifest().name, "memory-example");
    assert_eq!(atlassian.manifest().name, "atlassian-cloud");
    assert_eq!(broken.manifest().name, "broken-fixture");
    // abi_stable's cached loader would have answered the first module for every path.
    let again = load(&memory_connector());
    assert_eq!(again.manifest().name, "memory-example");
    for lib in [&memory, &atlassian, &broken] {
        assert_eq!(lib.manifest().api_version, connector_api::API_VERSION);
        assert_eq!(
            lib.manifest().protocol_version,
            connector_api::abi::PROTOCOL_VERSION
        );
    }
}

#[test]
fn a_missing_file_is_named() {
    let path = PathBuf::from("/nonexistent/libnothing.so");
    let err = load_err(&path);
    assert!(matches!(err, LoadError::NotFound { .. }), "{err:?}");
    assert_eq!(err.to_string(), "/nonexistent/libnothing.so: no such file");
}

#[test]
fn a_shared_library_that_is_no_connector_is_refused() {
    // A proc-macro crate cargo built: a real shared library with no connector in it.
    let deps = profile_dir().join("deps");
    let other = std::fs::read_dir(&deps)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
            name.starts_with(&format!("{prefix}serde_derive-")) && name.ends_with(suffix)
        })
        .expect("serde_derive's proc-macro library is in target/*/deps");
    let err = load_err(&other);
    assert!(matches!(err, LoadError::NotAConnector { .. }), "{err:?}");
    assert!(err.to_string().contains("not a connector library"), "{err}");
}

#[test]
fn a_file_that_is_no_library_is_refused() {
    let path = std::env::temp_dir().join(format!("not-a-library-{}.so", std::process::id()));
    std::fs::write(&path, b"this is text, not ELF").unwrap();
    let err = load_err(&path);
    std::fs::remove_file(&path).ok();
    assert!(matches!(err, LoadError::Open { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("cannot be opened as a shared library"),
        "{err}"
    );
}

#[test]
fn a_plugin_built_against_another_api_version_is_refused_with_both_versions() {
    let err = load_err(&incompatible_version());
    match &err {
        LoadError::IncompatibleApi { host, plugin, .. } => {
            assert_eq!(host, connector_api::API_VERSION);
            assert_eq!(plugin, "1.0.0");
        }
        other => panic!("expected IncompatibleApi, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("connector-api 0.1.0") && text.contains("1.0.0"),
        "{text}"
    );
}

#[test]
fn a_plugin_built_against_a_changed_abi_is_refused_naming_the_change() {
    let err = load_err(&changed_abi());
    match &err {
        LoadError::LayoutMismatch { summary, .. } => {
            assert!(
                summary.contains("mismatched type (expected RResult, found u32)"),
                "{summary}"
            );
            assert!(
                summary.contains("too many fields (expected 3, found 2)"),
                "{summary}"
            );
        }
        other => panic!("expected LayoutMismatch, got {other:?}"),
    }
}

/// A library cut short anywhere before the end of its last loaded segment (an interrupted
/// copy, a full disk) is refused with one line and exit 3, never a SIGBUS of the host.
#[test]
#[cfg(target_os = "linux")]
fn a_truncated_library_is_refused_not_a_crash() {
    use object::{Object, ObjectSegment};
    let original = std::fs::read(atlassian_plugin()).unwrap();
    let last_load_end = object::File::parse(&*original)
        .unwrap()
        .segments()
        .map(|s| s.file_range().0 + s.file_range().1)
        .max()
        .unwrap() as usize;
    let cuts = [
        1024,
        last_load_end / 4,
        last_load_end / 2,
        last_load_end - 4096,
        last_load_end - 1,
    ];
    let path = std::env::temp_dir().join(format!("truncated-{}.so", std::process::id()));
    for cut in cuts {
        std::fs::write(&path, &original[..cut]).unwrap();
        let out = std::process::Command::new(connector_tests::host_harness())
            .args(["inspect", path.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(3),
            "cut at {cut} of {last_load_end}: {stderr}"
        );
        assert!(
            stderr.contains("not a loadable library") && stderr.trim().lines().count() == 1,
            "{stderr}"
        );
    }
    std::fs::remove_file(&path).ok();
}
