//! The `host-harness` command line: argument parsing only; each command lives in `cli/`.

use std::process::ExitCode;

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

/// Each command's flags live with the command, in `cli/`.
#[derive(Debug, Subcommand)]
enum Command {
    Inspect(cli::inspect::InspectArgs),
    Call(cli::call::CallArgs),
    Sim(cli::sim::SimArgs),
    Conform(cli::conform::ConformArgs),
    Validate(cli::check::ValidateArgs),
    Test(cli::check::TestArgs),
    Recon(cli::recon::ReconArgs),
    Chaos(cli::chaos::ChaosArgs),
    Bench(cli::bench::BenchArgs),
    Probe(cli::probe::ProbeArgs),
    Suite(cli::suite::SuiteArgs),
    New(cli::new::NewArgs),
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
        Command::Inspect(args) => cli::inspect::run(&args),
        Command::Call(args) => cli::call::run(&args),
        Command::Sim(args) => cli::sim::run(args),
        Command::Conform(args) => cli::conform::run(args),
        Command::Validate(args) => cli::check::validate(&args),
        Command::Test(args) => cli::check::test(&args),
        Command::Recon(args) => cli::recon::run(args),
        Command::Chaos(args) => cli::chaos::run(args),
        Command::Suite(args) => cli::suite::run(args),
        Command::New(args) => cli::new::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Probe(args) => cli::probe::run(args),
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
