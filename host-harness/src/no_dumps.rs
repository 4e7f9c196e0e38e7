//! A process that holds connector credentials leaves no core dump with them in it.
//!
//! Every command that opens a connector calls [`forbid_core_dumps`] first: the core size limit
//! drops to 0 (an admin's `ulimit -c unlimited` notwithstanding) and, on Linux, the process is
//! marked non-dumpable, which also keeps other users' debuggers out. Elsewhere it does what the
//! platform offers. Hosts embedding the SDK should do the same (see `connector_api::host`).

/// Forbids core dumps of this process; what the platform refuses is left as it was.
pub fn forbid_core_dumps() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        let none = Rlimit {
            current: Some(0),
            maximum: Some(0),
        };
        if let Err(e) = setrlimit(Resource::Core, none) {
            tracing::debug!("the core size limit could not be set to 0: {e}");
        }
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{DumpableBehavior, set_dumpable_behavior};
        if let Err(e) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
            tracing::debug!("the process could not be marked non-dumpable: {e}");
        }
    }
}

/// Overwrites, in place, every value of `config` its schema marks `writeOnly`: once a connector
/// is open, the host's copy of its secrets is no longer needed.
pub fn wipe_secrets(config: &mut serde_json::Value, schema: &serde_json::Value) {
    use zeroize::Zeroize;
    let Some(map) = config.as_object_mut() else {
        return;
    };
    for (key, value) in map.iter_mut() {
        let property = &schema["properties"][key];
        let property = match property.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => schema
                .pointer(r.trim_start_matches('#'))
                .unwrap_or(property),
            None => property,
        };
        if property.get("writeOnly") == Some(&serde_json::Value::Bool(true)) {
            if let serde_json::Value::String(s) = value {
                s.zeroize();
            }
            *value = serde_json::Value::Null;
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_is_not_dumpable_afterwards() {
        super::forbid_core_dumps();
        let status = std::fs::read_to_string("/proc/self/limits").unwrap();
        let core = status
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap();
        assert!(
            core.split_whitespace().filter(|w| *w == "0").count() >= 2,
            "{core}"
        );
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
