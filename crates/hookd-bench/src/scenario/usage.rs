//! Usage: the CPU time and context switches each hookd node and the benchmark itself used
//! over the measured phase, and the nodes' peak memory, summed over the nodes for the row.

use crate::procfs;
use crate::report::{NodeUsage, Report};

/// Counters read when the measured phase began; `finish` reads them again.
pub struct Usage {
    nodes: Vec<Before>,
    bench_cpu: Option<f64>,
}

/// One node's counters at the start; all `None` for a node whose process is unknown.
struct Before {
    pid: Option<u32>,
    cpu: Option<f64>,
    switches: Option<u64>,
}

impl Usage {
    /// From now, for the nodes with these process ids (`None`: a hookd not read). Each node's
    /// peak memory starts again from what it has resident now.
    pub fn start(pids: &[Option<u32>]) -> Usage {
        let nodes = pids
            .iter()
            .map(|&pid| Before {
                pid,
                cpu: pid.and_then(procfs::cpu_seconds),
                switches: pid.and_then(procfs::context_switches),
            })
            .collect();
        for pid in pids.iter().flatten() {
            procfs::reset_peak_rss(*pid);
        }
        Usage {
            nodes,
            bench_cpu: procfs::cpu_seconds(std::process::id()),
        }
    }

    /// For nodes just spawned: all the CPU time they ever used counts, start-up included.
    pub fn since_spawn(pids: &[Option<u32>]) -> Usage {
        let nodes = pids
            .iter()
            .map(|&pid| Before {
                pid,
                cpu: pid.map(|_| 0.0),
                switches: pid.map(|_| 0),
            })
            .collect();
        Usage {
            nodes,
            bench_cpu: procfs::cpu_seconds(std::process::id()),
        }
    }

    /// Writes each node's figures, their sums, and the benchmark's own into `report`. A sum
    /// is `None` if any node's figure is.
    pub fn finish(&self, report: &mut Report) {
        let per_node: Vec<NodeUsage> = self.nodes.iter().map(Before::until_now).collect();
        report.hookd_cpu_s = per_node.iter().map(|n| n.cpu_s).sum();
        report.hookd_peak_rss_mib = per_node.iter().map(|n| n.peak_rss_mib).sum();
        report.hookd_switches = per_node.iter().map(|n| n.switches).sum();
        report.switches_per_delivery = report
            .hookd_switches
            .map(|n| n as f64 / report.delivered.max(1) as f64);
        report.per_node = per_node;
        let bench = std::process::id();
        report.bench_cpu_s = since(procfs::cpu_seconds(bench), self.bench_cpu);
        report.bench_peak_rss_mib = procfs::peak_rss_mib(bench);
    }
}

impl Before {
    fn until_now(&self) -> NodeUsage {
        let pid = self.pid;
        NodeUsage {
            cpu_s: since(pid.and_then(procfs::cpu_seconds), self.cpu),
            peak_rss_mib: pid.and_then(procfs::peak_rss_mib),
            switches: since(pid.and_then(procfs::context_switches), self.switches),
        }
    }
}

/// How much a counter grew, if it was read both times and did not fall (a sum over a
/// process's threads falls when a thread exits: its switches leave the sum).
fn since<T: std::ops::Sub<Output = T> + PartialOrd>(
    now: Option<T>,
    before: Option<T>,
) -> Option<T> {
    let (now, before) = (now?, before?);
    (now >= before).then(|| now - before)
}

#[cfg(test)]
mod tests {
    use super::since;

    #[test]
    fn a_counter_that_fell_is_no_figure_rather_than_a_wrapped_one() {
        assert_eq!(since(Some(7u64), Some(5)), Some(2));
        assert_eq!(since(Some(5u64), Some(7)), None);
        assert_eq!(since(Some(1.5), None), None);
        assert_eq!(since(Some(2.5), Some(1.0)), Some(1.5));
    }
}
