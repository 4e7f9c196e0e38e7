//! `host-harness new` as a new author runs it: the generated crate builds, passes `conform`
//! with its own suite and runs its unit test, all as generated; bad names and occupied
//! directories are refused before anything is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use connector_tests::{host_harness, profile_dir, workspace_file};

fn cargo(dir: &Path, args: &[&str]) -> Output {
    // `target/fixtures`: its own target directory, so it never waits on the workspace's lock.
    let target = profile_dir().parent().unwrap().join("fixtures");
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .args(["--quiet", "--offline", "--target-dir"])
        .arg(&target)
        .current_dir(dir)
        .output()
        .expect("cargo runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("scaffold-{}", std::process::id()))
}

#[test]
fn a_generated_connector_builds_conforms_and_tests_as_generated() {
    let root = scratch();
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("acme");
    let made = Command::new(host_harness())
        .args(["new", "acme-directory", "--path"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    assert!(
        text(&made).contains("--suite conformance.json"),
        "{}",
        text(&made)
    );
    // The workspace's versions, so the build needs nothing the registry cache lacks.
    std::fs::copy(workspace_file("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let built = cargo(&dir, &["build"]);
    assert!(built.status.success(), "{}", text(&built));
    let library = profile_dir()
        .parent()
        .unwrap()
        .join("fixtures/debug")
        .join(format!(
            "{}acme_directory{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
    let conformed = Command::new(host_harness())
        .arg("conform")
        .arg(&library)
        .arg("--suite")
        .arg(dir.join("conformance.json"))
        .output()
        .unwrap();
    let report = text(&conformed);
    assert!(conformed.status.success(), "{report}");
    assert!(report.contains(" 0 failed"), "{report}");
    let inspected = Command::new(host_harness())
        .arg("inspect")
        .arg(&library)
        .output()
        .unwrap();
    assert!(
        text(&inspected).contains("acme-directory"),
        "{}",
        text(&inspected)
    );
    let tested = cargo(&dir, &["test"]);
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(text(&tested).contains("1 passed"), "{}", text(&tested));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn bad_names_and_occupied_directories_are_refused_before_anything_is_written() {
    let root = scratch().with_extension("refused");
    let _ = std::fs::remove_dir_all(&root);
    for name in ["Acme", "9lives", "acme directory", "acme/../x", ""] {
        let out = Command::new(host_harness())
            .args(["new", name, "--path"])
            .arg(root.join("x"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        assert!(
            text(&out).contains("not a connector name"),
            "{name}: {}",
            text(&out)
        );
        assert!(!root.join("x").exists(), "{name}: wrote files");
    }
    std::fs::create_dir_all(root.join("taken")).unwrap();
    std::fs::write(root.join("taken/notes.txt"), "mine").unwrap();
    let out = Command::new(host_harness())
        .args(["new", "acme", "--path"])
        .arg(root.join("taken"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    assert_eq!(std::fs::read_dir(root.join("taken")).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&root);
}
