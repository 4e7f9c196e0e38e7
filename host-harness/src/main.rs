//! The `host-harness` command line: argument parsing only; each command lives in `cli/`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use host_harness::cli::{self, CliError};
use tracing_subscriber::EnvFilter;

// The harness decodes and drops millions of small objects across threads (and embeds the
// simulator); mimalloc avoids glibc's arena contention there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Load an IDHub connector library and drive it through the real ABI.
///
/// Exit codes: 0 success, 1 the connector answered an error, 2 bad command line or
/// configuration file, 3 the library could not be loaded.
#[derive(Debug, Parser)]
#[command(name = "host-harness", version, about, long_about)]
struct Args {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a plugin and print its manifest, capabilities and configuration schema.
    ///
    /// A library that fails to load prints a short summary of why and exits 3.
    Inspect {
        /// The connector library (.so, .dylib or .dll).
        plugin: PathBuf,
        /// Print the manifest as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Open a connector with a configuration and run one operation.
    ///
    /// The result is printed as JSON on stdout; an error is printed as JSON (kind, message,
    /// retryable, details) on stderr, with exit code 1.
    ///
    /// Examples:
    ///   host-harness call lib.so --config c.json validate
    ///   host-harness call lib.so --config c.json test
    ///   host-harness call lib.so --config c.json create '{"class":"user","name":"ada","attributes":{"email":"ada@example.com"}}'
    ///   host-harness call lib.so --config c.json search '{"class":"user","filter":{"eq":{"attribute":"__name__","value":"ada"}}}'
    #[command(verbatim_doc_comment)]
    Call {
        /// The connector library.
        plugin: PathBuf,
        /// The connector configuration, a JSON file.
        #[arg(long, short)]
        config: PathBuf,
        /// validate, test, schema, create, get, update, delete or search.
        operation: String,
        /// The request as JSON, `@FILE` to read it from a file, or `-` for standard input.
        input: Option<String>,
        /// The time the operation may take, in seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
    },
    /// Serve the Atlassian Cloud simulator on 127.0.0.1 until interrupted.
    ///
    /// Prints the SCIM and site URLs and the credentials it accepts. Faults come from flags or a
    /// JSON plan (--faults-file), and change at run time through the control API
    /// (PUT /__sim/faults); GET /__sim/requests and /__sim/store report what was received.
    ///
    /// Examples:
    ///   host-harness sim --users 100000 --groups 1000 --seed 7 --write-config atlassian.json
    ///   host-harness sim --rate-limit 50/10 --fault rate_limited:scim_read=0.05 --latency 20+5
    ///   host-harness sim --fault lost_response:scim_write=0.1 --fault drop=0.01
    #[command(verbatim_doc_comment)]
    Sim {
        /// The port on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// SCIM users to seed.
        #[arg(long, default_value_t = 0)]
        users: usize,
        /// SCIM groups to seed.
        #[arg(long, default_value_t = 0)]
        groups: usize,
        /// Seed of ids, data, credentials and faults: same seed, same run.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// The most SCIM resources per page.
        #[arg(long, default_value_t = 100)]
        page_cap: usize,
        /// Delay before SCIM writes show on the Jira and Confluence APIs, in milliseconds.
        #[arg(long, default_value_t = 0)]
        propagation_delay_ms: u64,
        /// Token bucket per credential: RATE or RATE/BURST requests per second.
        #[arg(long)]
        rate_limit: Option<String>,
        /// A fault rule KIND[:CLASS,...]=PROBABILITY; kinds rate_limited, server_error,
        /// unavailable, drop, truncate, lost_response, invalid_json, wrong_types, missing_fields,
        /// huge_body, html_body, redirect; classes scim_read, scim_write, site_read, site_write.
        /// Repeatable.
        #[arg(long = "fault")]
        faults: Vec<String>,
        /// Latency on every request: MS or MS+JITTER.
        #[arg(long)]
        latency: Option<String>,
        /// A JSON fault plan, as PUT /__sim/faults takes it.
        #[arg(long)]
        faults_file: Option<PathBuf>,
        /// Write a ready-to-use Atlassian plugin configuration to this file.
        #[arg(long)]
        write_config: Option<PathBuf>,
    },
    /// Run the conformance suite: every check through the real ABI, one report.
    ///
    /// With no arguments: the Atlassian plugin built beside this binary, with the suite it
    /// ships (atlassian-plugin/conformance.json), against an embedded simulator on a free
    /// loopback port. Exit 0 only when no check failed.
    ///
    /// Examples:
    ///   host-harness conform
    ///   host-harness conform target/debug/examples/libmemory_connector.so --suite connector-api/examples/memory_connector.conformance.json
    ///   host-harness conform --only lifecycle.user --format junit --out conformance.xml
    #[command(verbatim_doc_comment)]
    Conform {
        /// The connector library; default: the suite's, else the Atlassian plugin beside this binary.
        plugin: Option<PathBuf>,
        /// The connector configuration; default: the suite's.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The suite file: sample objects per class, bad configurations, fault settings.
        #[arg(long)]
        suite: Option<PathBuf>,
        /// Run only the checks whose name contains this (e.g. `search.` or `lifecycle.user`).
        #[arg(long)]
        only: Option<String>,
        /// table (colour on a terminal), json, or junit (JUnit XML for CI systems).
        #[arg(long, value_enum, default_value_t = cli::conform::Format::Table)]
        format: cli::conform::Format,
        /// Write the report to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run the suite in a child process: a plugin that aborts or crashes the process is
        /// reported as a failed check instead of taking this command down.
        #[arg(long)]
        isolate: bool,
    },
    /// Check a configuration offline: the error names the field and the fix.
    Validate {
        /// The connector library.
        plugin: PathBuf,
        /// The configuration, a JSON file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Test the connection: each credential and permission, with the fix for each failure.
    Test {
        /// The connector library.
        plugin: PathBuf,
        /// The configuration, a JSON file.
        #[arg(long, short)]
        config: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reconcile: stream every object of a class to JSON Lines, with a progress bar on a
    /// terminal (objects, rate, ETA once the connector announces a total) and a summary.
    ///
    /// With --expected (JSON Lines of objects, as recon writes them, uid optional), write the
    /// findings instead: `differs` (with each value expected and found), `unmatched` (in the
    /// target only) and `missing` (expected only). Objects correlate by uid, then by name
    /// (case-insensitive); only the attributes the expectation states are compared.
    ///
    /// Examples:
    ///   host-harness recon target/release/libatlassian_plugin.so --config atlassian.json --out users.jsonl
    ///   host-harness recon target/release/libatlassian_plugin.so --config atlassian.json --expected idhub.jsonl
    #[command(verbatim_doc_comment)]
    Recon {
        /// The connector library.
        plugin: PathBuf,
        /// The configuration, a JSON file.
        #[arg(long, short)]
        config: PathBuf,
        /// The object class.
        #[arg(long, default_value = "user")]
        class: String,
        /// Write JSON Lines here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The page size to ask the connector for.
        #[arg(long)]
        page_size: Option<u32>,
        /// The time the whole reconciliation may take, in seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        /// What IDHub expects, JSON Lines of objects: write the findings of the comparison.
        #[arg(long, value_name = "FILE")]
        expected: Option<PathBuf>,
    },
    /// Fault campaign: a realistic workload through the Atlassian plugin while the embedded
    /// simulator injects 429, 500, 503, dropped connections, truncated bodies, latency spikes
    /// and lost responses; then the store is compared with the intended end state.
    ///
    /// Exits non-zero if anything was lost, duplicated or left unexplained. Same seed, same
    /// result (the workload runs one operation at a time).
    Chaos {
        /// Users created (with default-group grants).
        #[arg(long, default_value_t = 5_000)]
        creates: usize,
        /// Users updated.
        #[arg(long, default_value_t = 2_000)]
        updates: usize,
        /// Users disabled.
        #[arg(long, default_value_t = 1_000)]
        disables: usize,
        /// Users deleted.
        #[arg(long, default_value_t = 500)]
        deletes: usize,
        /// Groups created, each with members added and some removed.
        #[arg(long, default_value_t = 20)]
        groups: usize,
        /// The seed of the faults.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Retries per operation by the host after a retryable error.
        #[arg(long, default_value_t = 3)]
        host_retries: u32,
        /// The Atlassian plugin; default: beside this binary.
        #[arg(long)]
        plugin: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure against the embedded simulator: figures and ratios, in one process and one run.
    ///
    /// Scenarios (all when none is named): recon (plugin vs a plain client fetching the same
    /// pages), recon-latency (vs pages x latency / concurrency, and vs one request at a time),
    /// memory (peak RSS at 10,000 and N users), provision (creates with grants under a rate
    /// limit), ffi (round trip of a trivial operation through a library).
    ///
    /// Example:
    ///   host-harness bench recon memory --users 100000 --json
    #[command(verbatim_doc_comment)]
    Bench {
        /// The scenarios to run.
        #[arg(value_enum)]
        scenarios: Vec<cli::bench::Scenario>,
        /// Users for recon and memory.
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        /// Groups seeded.
        #[arg(long, default_value_t = 1_000)]
        groups: usize,
        /// Users for recon-latency.
        #[arg(long, default_value_t = 20_000)]
        latency_users: usize,
        /// Latency per request in recon-latency, in milliseconds.
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        /// Requests in flight.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Users created in provision.
        #[arg(long, default_value_t = 2_000)]
        provision_users: usize,
        /// Allowed requests per second per credential in provision.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Host threads calling create in provision.
        #[arg(long, default_value_t = 16)]
        threads: usize,
        /// Calls measured in ffi.
        #[arg(long, default_value_t = 100_000)]
        calls: usize,
        /// The Atlassian plugin; default: beside this binary.
        #[arg(long)]
        plugin: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.verbose);
    // Every command may hold connector credentials (the simulator's included).
    host_harness::no_dumps::forbid_core_dumps();
    match run(args.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(),
    }
}

fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Conform {
            plugin,
            config,
            suite,
            only,
            format,
            out,
            isolate,
        } => cli::conform::run(cli::conform::ConformArgs {
            plugin,
            config,
            suite,
            only,
            format,
            isolate,
            out,
        }),
        Command::Validate { plugin, config } => cli::check::validate(&plugin, &config),
        Command::Chaos {
            creates,
            updates,
            disables,
            deletes,
            groups,
            seed,
            host_retries,
            plugin,
            json,
        } => cli::chaos::run(cli::chaos::ChaosArgs {
            creates,
            updates,
            disables,
            deletes,
            groups,
            seed,
            host_retries,
            plugin,
            json,
        }),
        Command::Recon {
            plugin,
            config,
            class,
            out,
            page_size,
            timeout,
            expected,
        } => cli::recon::run(cli::recon::ReconArgs {
            plugin,
            config,
            class,
            out,
            page_size,
            timeout: timeout.map(Duration::from_secs),
            expected,
        }),
        Command::Test {
            plugin,
            config,
            json,
        } => cli::check::test(&plugin, &config, json),
        Command::Sim {
            port,
            users,
            groups,
            seed,
            page_cap,
            propagation_delay_ms,
            rate_limit,
            faults,
            latency,
            faults_file,
            write_config,
        } => cli::sim::run(cli::sim::SimArgs {
            port,
            users,
            groups,
            seed,
            page_cap,
            propagation_delay_ms,
            rate_limit,
            faults,
            latency,
            faults_file,
            write_config,
        }),
        Command::Bench {
            scenarios,
            users,
            groups,
            latency_users,
            latency_ms,
            concurrency,
            provision_users,
            rate,
            threads,
            calls,
            plugin,
            json,
        } => cli::bench::run(cli::bench::BenchArgs {
            scenarios,
            users,
            groups,
            latency_users,
            latency_ms,
            concurrency,
            provision_users,
            rate,
            threads,
            ffi_calls: calls,
            plugin,
            json,
        }),
        Command::Inspect { plugin, json } => cli::inspect::run(&plugin, json),
        Command::Call {
            plugin,
            config,
            operation,
            input,
            timeout,
        } => {
            let timeout = timeout
                .map(|s| {
                    Duration::try_from_secs_f64(s)
                        .map_err(|_| CliError::Usage(format!("--timeout {s} is not a duration")))
                })
                .transpose()?;
            cli::call::run(&cli::call::CallArgs {
                plugin: &plugin,
                config: &config,
                operation: &operation,
                input: input.as_deref(),
                timeout,
            })
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("HOST_HARNESS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(true)
        .init();
}
