//! No configured secret appears in any byte a command prints: every command and operation runs
//! at the most verbose log level, successes and failures, including failures whose server
//! answers echo the credentials back.

use std::process::Command;

use crate::common::Sim;
use base64::Engine;
use connector_tests::{atlassian_plugin, host_harness, workspace_file};
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule};

#[test]
fn no_secret_in_any_output_even_when_the_server_echoes_it() {
    let s = Sim::start();
    let creds = s.sim.credentials().clone();
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let secrets = [
        creds.directory_api_key.clone(),
        creds.admin_api_token.clone(),
        creds.user_api_token.clone(),
        b64(&format!("{}:{}", creds.admin_email, creds.admin_api_token)),
        b64(&creds.directory_api_key),
    ];
    let dir = std::env::temp_dir();
    let config = dir.join(format!("secrets-{}.json", std::process::id()));
    std::fs::write(&config, s.sim.plugin_config().to_string()).unwrap();
    let plugin = atlassian_plugin();
    let (plugin, config) = (
        plugin.to_str().unwrap().to_owned(),
        config.to_str().unwrap().to_owned(),
    );

    let mut transcript = Vec::new();
    let mut run = |args: &[&str]| {
        let out = Command::new(host_harness())
            .arg("-vvv")
            .args(args)
            .env("HOST_HARNESS_LOG", "trace")
            .output()
            .unwrap();
        transcript.push((args.join(" "), out.stdout, out.stderr));
    };
    let user = r#"{"class":"user","name":"scan@acme.com","attributes":{"email":"scan@acme.com"}}"#;
    let commands: Vec<Vec<&str>> = vec![
        vec!["inspect", &plugin],
        vec!["validate", &plugin, "--config", &config],
        vec!["test", &plugin, "--config", &config],
        vec!["call", &plugin, "--config", &config, "create", user],
        vec![
            "call",
            &plugin,
            "--config",
            &config,
            "search",
            r#"{"class":"user","filter":{"eq":{"attribute":"__name__","value":"scan@acme.com"}}}"#,
        ],
        vec![
            "call",
            &plugin,
            "--config",
            &config,
            "get",
            r#"{"class":"user","uid":"no-such"}"#,
        ],
        vec!["recon", &plugin, "--config", &config],
        vec!["conform", &plugin, "--format", "json"],
        vec![
            "conform",
            &plugin,
            "--format",
            "junit",
            "--only",
            "resilience.",
        ],
    ];
    for args in &commands {
        run(args);
    }
    // A hostile server: every answer repeats the credentials it received.
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![FaultRule::new(FaultKind::EchoCredentials, 1.0)],
        rate_limit: None,
    });
    for args in &commands[2..7] {
        run(args);
    }
    run(&[
        "conform",
        &workspace_file("target").to_string_lossy(),
        "--suite",
        "/nonexistent.json",
    ]);
    let echoed = s.requests()["faults"]["echo_credentials"]
        .as_u64()
        .unwrap_or(0);
    assert!(echoed >= 5, "the server echoed credentials {echoed} times");
    std::fs::remove_file(&config).ok();

    // As an attacker would look: every secret, its encodings (the Basic form with the admin
    // email as the user among them), and any 8 of its characters in a row.
    let finder =
        connector_api::redact::Redactor::new(&secrets, &[s.sim.credentials().admin_email.clone()]);
    let mut bytes = 0;
    for (command, stdout, stderr) in &transcript {
        for (stream, data) in [("stdout", stdout), ("stderr", stderr)] {
            bytes += data.len();
            let text = String::from_utf8_lossy(data);
            assert!(
                !finder.finds(&text),
                "`{command}` printed a secret, an encoding or a fragment on {stream}:\n{text}"
            );
        }
    }
    let request_lines = transcript
        .iter()
        .filter(|(_, _, e)| String::from_utf8_lossy(e).contains("connector: SCIM GET"))
        .count();
    assert!(
        request_lines > 0,
        "the connector's request log was part of the scan"
    );
    let echoes: usize = transcript
        .iter()
        .filter(|(_, o, e)| {
            String::from_utf8_lossy(o).contains("[REDACTED]")
                || String::from_utf8_lossy(e).contains("[REDACTED]")
        })
        .count();
    assert!(
        echoes > 0,
        "the echoed credentials were redacted, not absent by luck"
    );
    println!(
        "secret scan: {} runs, {bytes} bytes of stdout and stderr at trace level, {} secrets: none found ({echoes} runs show [REDACTED])",
        transcript.len(),
        secrets.len()
    );
}

/// A connector that leaks its own token, whole, cut, escaped or encoded, in errors and log
/// lines: the SDK's boundary redacts every form before the host sees it.
#[test]
fn the_sdk_redacts_what_a_connector_leaks() {
    use connector_api::ops::{OpCreate, OpGet};
    use std::sync::{Arc, Mutex};
    let token = "bfx-Lk4Jh7Gf2Ds9Aq1Z";
    let library = connector_tests::load(&connector_tests::broken_connector());
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = lines.clone();
    let c = library
        .open(&serde_json::json!({ "api_token": token }))
        .unwrap()
        .with_log_observer(Arc::new(move |_, line| {
            kept.lock().unwrap().push(line.to_owned())
        }));
    let err = c
        .create(&OpCreate::new("user", "u").attr("shoe_size", 9))
        .unwrap_err();
    let _ = c.get(&OpGet::new("user", "no-such"));
    let lines = lines.lock().unwrap();
    let finder = connector_api::redact::Redactor::new(&[token.to_owned()], &[]);
    let texts = [err.message.clone(), err.details.to_string()]
        .into_iter()
        .chain(lines.iter().cloned());
    let mut redacted = 0;
    for text in texts {
        assert!(!finder.finds(&text), "leaked: {text}");
        redacted += usize::from(text.contains("[REDACTED]"));
    }
    assert!(
        redacted >= 2,
        "the error and the trace line were redacted, not silent: {lines:?}, {err}"
    );
}
