//! `host-harness new`: a connector crate that builds and passes `conform` as generated.
//!
//! The crate is the SDK's `examples/minimal.rs` under the author's name, with its suite: one
//! source, so what is generated is what the SDK's own tests build, conform and run.

use std::path::{Path, PathBuf};

use super::CliError;

/// The connector's source: the SDK's minimal example, whole.
const MINIMAL: &str = include_str!("../../../connector-api/examples/minimal.rs");
/// Its conformance suite.
const SUITE: &str = include_str!("../../../connector-api/examples/minimal.conformance.json");
/// The manifest name the example declares, replaced by the new crate's.
const EXAMPLE_NAME: &str = "\"users-example\"";

/// Creates a connector crate: Cargo.toml (cdylib + rlib), a connector of users in memory with
/// a configuration holding one secret, its conformance suite, a unit test with the SDK's test
/// kit, and a README with the three commands that matter (build, conform, test).
///
/// The crate depends on this checkout's connector-api by path (`--sdk` to point elsewhere)
/// and is its own workspace, wherever it is created.
///
/// Examples:
///   host-harness new acme-directory
///   host-harness new acme-directory --path ../connectors/acme
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct NewArgs {
    /// The crate's name, also the connector's manifest name: lowercase letters, digits, `-`
    /// and `_`, starting with a letter.
    pub name: String,
    /// The directory to create (default: ./NAME). It must not exist, or be empty.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// The connector-api crate to depend on (default: the one this harness was built from).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// Writes the crate and says what to run next.
pub fn run(args: NewArgs) -> Result<(), CliError> {
    check_name(&args.name)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let occupied = std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied || dir.is_file() {
        return Err(CliError::Usage(format!(
            "{}: exists and is not empty; choose another --path",
            dir.display()
        )));
    }
    let sdk = match &args.sdk {
        Some(sdk) => sdk.clone(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../connector-api"),
    };
    let sdk = sdk.canonicalize().map_err(|e| {
        CliError::Usage(format!(
            "{}: the connector-api crate is not there ({e}); give it with --sdk",
            sdk.display()
        ))
    })?;
    let library = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        args.name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    let files = [
        ("Cargo.toml", cargo_toml(&args.name, &sdk)),
        ("src/lib.rs", lib_rs(&args.name)),
        ("conformance.json", SUITE.to_owned()),
        ("README.md", readme(&args.name, &library)),
        (".gitignore", "/target\n".to_owned()),
    ];
    for (path, text) in &files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    println!("created {} in {}", args.name, dir.display());
    println!("next, in {}:", dir.display());
    for line in commands(&library) {
        println!("  {line}");
    }
    Ok(())
}

/// Refuses a name cargo or a host would refuse later, saying why now.
fn check_name(name: &str) -> Result<(), CliError> {
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if starts_with_letter && allowed && name.len() <= 64 {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "`{name}` is not a connector name: use lowercase letters, digits, `-` and `_`, starting with a letter, at most 64 characters"
    )))
}

fn cargo_toml(name: &str, sdk: &Path) -> String {
    let sdk = sdk.display().to_string().replace('\\', "/");
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the library IDHub loads; rlib: for this crate's own tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
connector-api = {{ path = "{sdk}" }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"
schemars = "1"

[dev-dependencies]
# The SDK's test kit: the connector called in-process as a host calls the library.
connector-api = {{ path = "{sdk}", features = ["testing"] }}

# Its own workspace, wherever it is created.
[workspace]
"#
    )
}

fn lib_rs(name: &str) -> String {
    // The example's opening doc lines speak of the example; the rest is the connector.
    let body = MINIMAL
        .split_once("\nuse ")
        .map_or(MINIMAL.to_owned(), |(_, rest)| format!("use {rest}"));
    let header = format!(
        "//! The `{name}` connector: users kept in memory, every operation.\n\
         //!\n\
         //! Generated by `host-harness new`; replace the map with calls to your target and keep\n\
         //! the error kinds. The SDK's crate docs (`cargo doc -p connector-api --open`) are the guide.\n\n"
    );
    format!(
        "{header}{}",
        body.replace(EXAMPLE_NAME, &format!("\"{name}\""))
    )
}

fn commands(library: &str) -> [String; 3] {
    [
        "cargo build".to_owned(),
        format!("host-harness conform target/debug/{library} --suite conformance.json"),
        "cargo test".to_owned(),
    ]
}

fn readme(name: &str, library: &str) -> String {
    let [build, conform, test] = commands(library);
    format!(
        "# {name}\n\n\
         An IDHub connector, generated by `host-harness new`.\n\n\
         ```sh\n\
         {build}    # the library: target/debug/{library}\n\
         {conform}    # the conformance suite\n\
         {test}    # the unit tests, through the SDK's test kit\n\
         ```\n\n\
         `conformance.json` is the suite: `host-harness suite --schema` prints every key it may\n\
         hold. A capability the manifest declares needs a sample there, or `conform` fails it.\n\
         The first build compiles the SDK and its dependencies (61 crates): about 25 seconds on two\n         cores, and 360 MB in target/.\n"
    )
}
