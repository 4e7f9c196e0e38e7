//! This process's memory, as the operating system counts it: for the benchmarks' figures.

/// A memory figure of this process in KiB from Linux `/proc/self/status` (`VmHWM` for the
/// peak, `VmRSS` for now), when known.
pub fn kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}
