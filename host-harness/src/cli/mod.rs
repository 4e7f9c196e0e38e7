//! The commands of the `host-harness` binary, one module each, and how their failures exit.

pub mod bench;
pub mod call;
pub mod chaos;
pub mod check;
pub mod conform;
pub mod inspect;
pub mod new;
pub mod probe;
pub mod recon;
pub mod sim;
pub mod suite;

use std::process::ExitCode;

use connector_api::ConnectorError;
use connector_api::host::LoadError;

use crate::plugin::ConfigFileError;

/// Why a command failed; each variant has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The plugin could not be loaded (exit 3).
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The configuration file could not be read (exit 2).
    #[error("{0}")]
    ConfigFile(#[from] ConfigFileError),
    /// The command line is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The connector answered an error (exit 1); printed as JSON.
    #[error("{0}")]
    Connector(#[from] ConnectorError),
    /// Writing the output failed (exit 1).
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
    /// The command ran and found failures (exit 1); the output already says which.
    #[error("{0}")]
    Failed(String),
    /// A signal ended the command (exit 128 + the signal: 130 for SIGINT, 143 for SIGTERM).
    #[error("{message}")]
    Interrupted {
        /// The exit code.
        code: u8,
        /// What was done before it.
        message: String,
    },
}

/// Parses a duration given in seconds (`30`, `0.5`), for `--timeout`.
pub fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is not a duration"))
}

impl CliError {
    /// Prints the error to stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        match self {
            CliError::Connector(error) => {
                let json = serde_json::json!({ "error": error });
                eprintln!(
                    "{}",
                    serde_json::to_string_pretty(&json).unwrap_or_default()
                );
                ExitCode::from(1)
            }
            CliError::Io(_) | CliError::Failed(_) => {
                eprintln!("error: {self}");
                ExitCode::from(1)
            }
            CliError::Load(_) => {
                eprintln!("error: {self}");
                ExitCode::from(3)
            }
            CliError::ConfigFile(_) | CliError::Usage(_) => {
                eprintln!("error: {self}");
                ExitCode::from(2)
            }
            CliError::Interrupted { code, message } => {
                eprintln!("{message}");
                ExitCode::from(*code)
            }
        }
    }
}
