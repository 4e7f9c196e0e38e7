//! `host-harness conform`: the conformance suite against a plugin, as a table, JSON or JUnit.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::CliError;
use crate::conformance::{self, FaultControl, Report, Selection, Suite, Target};
use crate::plugin;
use crate::sim::{OrgProfile, SimConfig, Simulator};

/// The suite the Atlassian plugin ships, used when no suite is given.
pub const ATLASSIAN_SUITE: &str = include_str!("../../../atlassian-plugin/conformance.json");

/// How to print the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table people read (colour on a terminal).
    Table,
    /// JSON.
    Json,
    /// JUnit XML.
    Junit,
}

/// Run the conformance suite: every check through the real ABI, one report.
///
/// With no arguments: the Atlassian plugin built beside this binary, with the suite it
/// ships (atlassian-plugin/conformance.json), against an embedded simulator on a free
/// loopback port, modelling a modern organization (--org legacy for the older kind).
/// Exit 0 only when no check failed.
///
/// Examples:
///   host-harness conform
///   host-harness conform --org legacy
///   host-harness conform target/debug/examples/libmemory_connector.so --suite connector-api/examples/memory_connector.conformance.json
///   host-harness conform --only lifecycle.user --format junit --out conformance.xml
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ConformArgs {
    /// The connector library; default: the suite's, else the Atlassian plugin beside this binary.
    pub plugin: Option<PathBuf>,
    /// The connector configuration; default: the suite's.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The suite file: sample objects per class, bad configurations, fault settings.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// The organization the embedded simulator models: modern (the default) or legacy;
    /// default: the suite's `org`, else modern.
    #[arg(long, value_enum)]
    pub org: Option<OrgProfile>,
    /// Run only the checks whose name contains this (e.g. `search.` or `lifecycle.user`).
    #[arg(long)]
    pub only: Option<String>,
    /// table (colour on a terminal), json, or junit (JUnit XML for CI systems).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip, rather than fail, the checks of capabilities the manifest declares but the suite
    /// gives no sample for (by default such a check fails: a suite cannot pass by saying
    /// nothing).
    #[arg(long)]
    pub lenient: bool,
    /// Run the suite in a child process: a plugin that aborts or crashes the process is
    /// reported as a failed check instead of taking this command down.
    #[arg(long)]
    pub isolate: bool,
    /// Append each check's name to this file once it ran (what `--isolate` reads back).
    #[arg(long, hide = true)]
    pub progress: Option<PathBuf>,
}

fn usage(message: String) -> CliError {
    CliError::Usage(message)
}

/// Fills the simulator's generated values into a suite's text.
fn with_simulator_values(text: &str, sim: &Simulator) -> String {
    let creds = sim.credentials();
    let [jira_group, confluence_group] = sim.default_groups();
    text.replace("${jira_group}", &jira_group)
        .replace("${confluence_group}", &confluence_group)
        .replace("${user_email}", &creds.user_email)
        .replace("${user_api_token}", &creds.user_api_token)
        .replace("${scim_url}", &sim.scim_url())
        .replace("${site_url}", &sim.site_url())
}

/// The name the Atlassian plugin's manifest gives: the one library the built-in suite fits.
const ATLASSIAN_CONNECTOR: &str = "atlassian-cloud";

/// Refuses to run the built-in Atlassian suite against another connector: its samples and
/// configuration are Atlassian's, and would fail for reasons that say nothing of the library.
fn check_builtin_suite_fits(args: &ConformArgs) -> Result<(), CliError> {
    let (None, Some(path)) = (&args.suite, &args.plugin) else {
        return Ok(());
    };
    let name = plugin::load(path)?.manifest().name.clone();
    if name == ATLASSIAN_CONNECTOR {
        return Ok(());
    }
    Err(usage(format!(
        "{} is the connector `{name}`, and no --suite was given: the built-in suite is the Atlassian plugin's; write a suite for this connector (see `connector_api`'s crate docs, step 5: a `config` and a sample per class) and pass it with --suite FILE",
        path.display()
    )))
}

/// Runs the suite; answers the report.
pub fn report(args: &ConformArgs) -> Result<Report, CliError> {
    check_builtin_suite_fits(args)?;
    let suite_text = match &args.suite {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| usage(format!("{}: cannot read the suite: {e}", path.display())))?,
        None => ATLASSIAN_SUITE.to_owned(),
    };
    let dir = args.suite.as_deref().and_then(Path::parent);
    let parse = |text: &str| Suite::parse(text, dir).map_err(usage);
    let mut suite = parse(&suite_text)?;
    let simulator = if suite.simulator {
        let sim = Simulator::start(SimConfig {
            users: 25,
            groups: 3,
            org: args.org.or(suite.org).unwrap_or_default(),
            switches: suite.switches.clone().unwrap_or_default(),
            propagation_delay: std::time::Duration::from_millis(suite.propagation_delay_ms),
            ..SimConfig::default()
        })?;
        suite = parse(&with_simulator_values(&suite_text, &sim))?;
        Some(sim)
    } else {
        None
    };
    let plugin_path = args
        .plugin
        .clone()
        .or_else(|| suite.plugin.clone())
        .or_else(plugin::bundled_atlassian_plugin)
        .ok_or_else(|| usage(format!("no plugin given and {} is not built beside this binary; run `cargo build --release --workspace`", plugin::library_file(plugin::ATLASSIAN_PLUGIN))))?;
    let library = plugin::load(&plugin_path)?;
    let file_config = match args.config.as_ref().or(suite.config_file.as_ref()) {
        Some(path) => Some(plugin::read_config(path)?),
        None => None,
    };
    let config = match (&simulator, file_config, &suite.config) {
        (Some(sim), file, patch) => {
            let base = conformance::patch_config(
                &sim.plugin_config(),
                file.as_ref().unwrap_or(&Value::Null),
            );
            conformance::patch_config(&base, patch.as_ref().unwrap_or(&Value::Null))
        }
        (None, Some(file), _) => file,
        (None, None, Some(config)) => config.clone(),
        (None, None, None) => {
            return Err(usage(
                "no configuration: pass --config FILE or give the suite a `config`".into(),
            ));
        }
    };
    let faults = simulator.as_ref().map(|s| s as &dyn FaultControl);
    let selection = Selection {
        only: args.only.clone(),
        progress: args.progress.clone(),
        lenient: args.lenient,
    };
    Ok(conformance::run(
        Target {
            library,
            config,
            suite,
            faults,
        },
        &selection,
    ))
}

/// Runs the suite in a child `host-harness conform`, so that a plugin crashing its process is
/// a failed check here. The child's report is read back; if it died, the report says after
/// which check and how.
pub fn isolated_report(args: &ConformArgs) -> Result<Report, CliError> {
    let out = tempfile::NamedTempFile::new()?;
    let progress = tempfile::NamedTempFile::new()?;
    let mut child = std::process::Command::new(std::env::current_exe()?);
    child.arg("conform");
    if let Some(p) = &args.plugin {
        child.arg(p);
    }
    for (flag, value) in [("--config", &args.config), ("--suite", &args.suite)] {
        if let Some(v) = value {
            child.arg(flag).arg(v);
        }
    }
    if let Some(only) = &args.only {
        child.args(["--only", only]);
    }
    if let Some(org) = args.org {
        child.args(["--org", org.name()]);
    }
    if args.lenient {
        child.arg("--lenient");
    }
    child.args(["--format", "json", "--out"]).arg(out.path());
    child.arg("--progress").arg(progress.path());
    let status = child.status()?;
    let written = std::fs::read_to_string(out.path()).ok();
    if let Some(report) = written.as_deref().and_then(Report::from_json) {
        return Ok(report);
    }
    let ran = std::fs::read_to_string(progress.path()).unwrap_or_default();
    let last = ran.lines().next_back().unwrap_or("none").to_owned();
    Ok(Report::crashed(
        args.plugin.as_deref().unwrap_or(Path::new("?")),
        format!(
            "the plugin's process {} during the check after `{last}`; no report was written",
            ended(status)
        ),
    ))
}

/// How a child process ended, in words.
fn ended(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    "ended abnormally".into()
}

/// Runs the suite, prints or writes the report; fails when a check failed.
pub fn run(args: ConformArgs) -> Result<(), CliError> {
    let report = if args.isolate {
        isolated_report(&args)?
    } else {
        report(&args)?
    };
    let colour = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = match args.format {
        Format::Table => report.table(colour),
        Format::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        Format::Junit => report.junit(),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text)?;
            eprintln!(
                "{} passed, {} failed, {} skipped; report written to {}",
                report.passed,
                report.failed,
                report.skipped,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    if report.ok() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} conformance check(s) failed",
            report.failed
        )))
    }
}
