//! This process's memory, as the operating system counts it: for the benchmarks' figures.
//!
//! Linux only (`/proc/self/status`); elsewhere every figure is `None`, and the scenarios that
//! need one say "not measured here" rather than pass on a zero.

/// The peak resident memory of this process so far, in KiB (`VmHWM`).
pub fn peak_kib() -> Option<u64> {
    status_kib("VmHWM")
}

/// The resident memory of this process now, in KiB (`VmRSS`).
pub fn resident_kib() -> Option<u64> {
    status_kib("VmRSS")
}

/// Why [`peak_kib`] and [`resident_kib`] are `None` on this platform, if they are.
pub const UNMEASURED: Option<&str> = if cfg!(target_os = "linux") {
    None
} else {
    Some("this platform gives no process memory figure to host-harness (Linux only)")
};

#[cfg(target_os = "linux")]
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn status_kib(_field: &str) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_known_exactly_where_the_platform_gives_them() {
        assert_eq!(peak_kib().is_some(), UNMEASURED.is_none());
        assert_eq!(resident_kib().is_some(), UNMEASURED.is_none());
        // Resident first: the peak, read after it, can only be as high or higher.
        let now = resident_kib();
        if let (Some(now), Some(peak)) = (now, peak_kib()) {
            assert!(peak >= now && now > 0, "peak {peak} KiB, now {now} KiB");
        }
    }
}
