//! Procfs: a process's CPU time and memory as Linux's /proc reports them, and the machine's load.

use std::fs;

/// User plus system CPU time a process has used, in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields are counted after its closing paren.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks())
}

/// Clock ticks per second, the unit of /proc's CPU times.
#[allow(unsafe_code)]
fn clock_ticks() -> f64 {
    // SAFETY: `sysconf` takes a plain integer, reads a configuration value and touches no
    // memory of the caller's; any name it does not know gives -1, handled below.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// The most memory the process has had resident since it started (VmHWM), in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_kib(pid, "VmHWM:").map(|kib| kib as f64 / 1024.0)
}

/// Starts the process's peak resident memory (VmHWM) again from what it has resident now
/// (`/proc/PID/clear_refs`, Linux 4.0 on), so that the peak read later is that of a phase.
/// Where that is refused, the peak stays the one since the process started.
pub fn reset_peak_rss(pid: u32) {
    let _ = fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// The memory the process has resident now (VmRSS), in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    status_kib(pid, "VmRSS:").map(|kib| kib as f64 / 1024.0)
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// Context switches of all the process's threads so far (voluntary and not): each is a thread
/// that went to sleep or was preempted, so per event it shows how much hand-off a design costs,
/// and it moves far less with the machine's load than CPU time does.
pub fn context_switches(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(status) = fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        for line in status.lines().filter(|l| l.contains("ctxt_switches:")) {
            total += line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Some(total)
}

/// The one-minute load average: how busy the machine was while a figure was taken.
pub fn load_average() -> Option<f64> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).is_some());
        let (rss, peak) = (rss_mib(pid).unwrap(), peak_rss_mib(pid).unwrap());
        assert!(rss > 0.0 && peak >= rss);
        assert!(load_average().is_some());
        assert!(context_switches(pid).is_some());
    }

    #[test]
    fn the_peak_starts_again_from_what_is_resident_now() {
        let pid = std::process::id();
        // 64 MiB written (resident), then given back to the kernel (glibc unmaps an
        // allocation this large when it is freed).
        let big = std::hint::black_box(vec![1u8; 64 << 20]);
        drop(big);
        let peak = |pid| peak_rss_mib(pid).unwrap() - rss_mib(pid).unwrap();
        assert!(
            peak(pid) >= 48.0,
            "the peak above what is resident: {}",
            peak(pid)
        );

        reset_peak_rss(pid);

        assert!(
            peak(pid) < 16.0,
            "the peak above what is resident: {}",
            peak(pid)
        );
    }
}
