//! `host-harness recon` as an admin runs it against a server that answers short: a complete
//! read is written whole, a read that cannot be proven complete leaves `<out>.partial` and
//! fails, and SIGINT or SIGTERM ends it with a summary and exit 130 or 143.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::Sim;
use connector_tests::{atlassian_plugin, host_harness};
use host_harness::sim::SimConfig;
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, Listing};
use serde_json::json;

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("recon-{name}-{}", std::process::id()))
}

fn config(s: &Sim, name: &str, overrides: serde_json::Value) -> PathBuf {
    let mut config = s.sim.plugin_config();
    for (k, v) in overrides.as_object().unwrap() {
        config[k] = v.clone();
    }
    let path = scratch(&format!("{name}.json"));
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

fn recon(config: &PathBuf, out: &PathBuf) -> Command {
    let mut command = Command::new(host_harness());
    command.args(["recon", atlassian_plugin().to_str().unwrap(), "--config"]);
    command.arg(config).arg("--out").arg(out);
    command
}

fn lines(path: &PathBuf) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_short_read_leaves_a_partial_file_and_fails_a_complete_one_is_renamed() {
    let s = Sim::with(SimConfig {
        users: 250,
        ..crate::common::legacy()
    });
    let config = config(&s, "short", json!({}));
    let out = scratch("short.jsonl");
    let partial = host_harness::cli::recon::partial_path(&out);
    // Shorter later pages are legal: followed to the end, written whole.
    let rule = FaultRule::new(FaultKind::ShortPages, 1.0).listing(Listing::Users);
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![rule.limit(10)],
        rate_limit: None,
    });
    let done = recon(&config, &out).output().unwrap();
    assert!(done.status.success(), "{}", text(&done));
    assert_eq!(lines(&out), 250);
    assert!(!partial.exists());
    // A server that ignores startIndex: the read fails; the old file stays, the new part aside.
    let rule = FaultRule::new(FaultKind::IgnoredStartIndex, 1.0).listing(Listing::Users);
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![rule],
        rate_limit: None,
    });
    let failed = recon(&config, &out).output().unwrap();
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let stderr = text(&failed);
    assert!(
        stderr.contains("ignore startIndex") && stderr.contains(".partial"),
        "{stderr}"
    );
    assert_eq!(lines(&out), 250, "the last complete read is untouched");
    assert_eq!(lines(&partial), 100, "what was read, kept aside");
    for path in [&out, &partial, &config] {
        let _ = std::fs::remove_file(path);
    }
}

#[test]
#[cfg(unix)]
fn sigint_and_sigterm_end_a_read_with_a_summary() {
    let s = Sim::with(SimConfig {
        users: 400,
        ..crate::common::legacy()
    });
    // Slow pages of 10 make the read last over 10 s: long enough to be interrupted.
    let latency = FaultRule {
        latency_ms: 250,
        ..FaultRule::new(FaultKind::Latency, 1.0)
    };
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![latency],
        rate_limit: None,
    });
    let config = config(&s, "signal", json!({"page_size": 10, "concurrency": 1}));
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let out = scratch(&format!("signal-{signal}.jsonl"));
        let child = recon(&config, &out).stderr(Stdio::piped()).spawn().unwrap();
        let partial = host_harness::cli::recon::partial_path(&out);
        let started = Instant::now();
        while !partial.exists() && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Well into the read: the default groups' members are read first, then users.
        std::thread::sleep(Duration::from_secs(1));
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "SIG{signal}: {}",
            text(&output)
        );
        let stderr = text(&output);
        assert!(
            stderr.contains(&format!("interrupted by SIG{signal}")) && stderr.contains(".partial"),
            "{stderr}"
        );
        assert!(!out.exists(), "an interrupted read is never the output");
        assert!(partial.exists());
        let _ = std::fs::remove_file(&partial);
    }
    let _ = std::fs::remove_file(&config);
}

/// `--out /dev/null` once replaced the device with a regular file (as root, for the whole
/// machine): a pipe or device is written in place, never renamed onto. A FIFO stands in for
/// the device, so the test cannot break the machine it runs on.
#[test]
#[cfg(unix)]
fn a_device_or_pipe_as_out_is_written_in_place_and_stays_what_it_was() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let s = Sim::with(SimConfig {
        users: 20,
        ..crate::common::legacy()
    });
    let config = config(&s, "fifo", json!({}));
    let fifo = scratch("fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(fifo)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map(|_| text)
        })
    };
    let done = recon(&config, &fifo).output().unwrap();
    assert!(done.status.success(), "{}", text(&done));
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "--out replaced the pipe with {kind:?}");
    assert!(!host_harness::cli::recon::partial_path(&fifo).exists());
    let read = reader.join().unwrap().unwrap();
    assert_eq!(read.lines().count(), 20, "every object through the pipe");
    for path in [&fifo, &config] {
        let _ = std::fs::remove_file(path);
    }
}
