//! Report: one scenario's figures, printed as one table row and one JSON line.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Every figure a scenario can produce; the ones a scenario does not measure stay `None`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    /// `sqlite`, `postgres`, or `external` (a hookd the benchmark did not start).
    pub store: String,
    /// hookd nodes the client's requests were spread over; the `hookd_*` figures are their sums.
    pub nodes: usize,
    /// Events hookd accepted (202).
    pub events: u64,
    /// Endpoints counted per event (the bad endpoints of `slow-endpoint` are not).
    pub endpoints: usize,
    pub expected: u64,
    pub delivered: u64,
    pub duplicates: u64,
    pub missing: u64,
    pub send_errors: u64,
    pub bad_signatures: u64,
    pub unexpected: u64,
    pub ingest_per_s: f64,
    pub delivered_per_s: f64,
    /// The best of the loopback ceiling's runs (`ceiling_runs_per_s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ceiling_per_s: Option<f64>,
    /// The loopback ceiling measured before hookd's run and again after it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ceiling_runs_per_s: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of_ceiling: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hookd_cpu_s: Option<f64>,
    /// Context switches of hookd's threads (`None` if the sum over its live threads fell), and
    /// per delivery received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hookd_switches: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switches_per_delivery: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hookd_peak_rss_mib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hookd_idle_rss_mib: Option<f64>,
    /// Each node's own CPU time, peak memory and context switches, in start order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_node: Vec<NodeUsage>,
    /// The benchmark's own CPU time: client and receiver share the machine with hookd.
    pub bench_cpu_s: Option<f64>,
    pub bench_peak_rss_mib: Option<f64>,
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    /// slow-endpoint: the healthy endpoints' p99 with no bad endpoint present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_p99_ms: Option<f64>,
    /// backlog: from spawning hookd to the first delivery, and to the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_delivery_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// What one hookd node used during the measured phase.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct NodeUsage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switches: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// From a histogram of microseconds.
    pub fn of(histogram: &Histogram<u64>) -> Option<Percentiles> {
        if histogram.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Some(Percentiles {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
        })
    }
}

const COLUMNS: &[(&str, usize)] = &[
    ("scenario", 13),
    ("store", 8),
    ("nodes", 5),
    ("events", 9),
    ("delivered", 10),
    ("dup", 5),
    ("missing", 8),
    ("ingest/s", 9),
    ("deliv/s", 9),
    ("ceiling/s", 10),
    ("of_ceil", 8),
    ("p50ms", 8),
    ("p90ms", 8),
    ("p99ms", 8),
    ("maxms", 9),
    ("cpu_s", 7),
    ("peakMiB", 8),
    ("idleMiB", 8),
    ("load", 5),
];

impl Report {
    pub fn table_header() -> String {
        let mut line = String::new();
        for (name, width) in COLUMNS {
            let _ = write!(line, "{name:>width$} ");
        }
        line.push_str(" extra");
        line
    }

    pub fn table_row(&self) -> String {
        let opt = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
        let lat = self.latency_ms;
        let cells = [
            self.scenario.to_string(),
            self.store.clone(),
            self.nodes.to_string(),
            self.events.to_string(),
            self.delivered.to_string(),
            self.duplicates.to_string(),
            self.missing.to_string(),
            format!("{:.0}", self.ingest_per_s),
            format!("{:.0}", self.delivered_per_s),
            opt(self.ceiling_per_s, 0),
            self.of_ceiling
                .map_or("-".into(), |f| format!("{:.1}%", f * 100.0)),
            opt(lat.map(|l| l.p50), 1),
            opt(lat.map(|l| l.p90), 1),
            opt(lat.map(|l| l.p99), 1),
            opt(lat.map(|l| l.max), 1),
            opt(self.hookd_cpu_s, 1),
            opt(self.hookd_peak_rss_mib, 1),
            opt(self.hookd_idle_rss_mib, 1),
            opt(self.load_before, 2),
        ];
        let mut line = String::new();
        for (cell, (_, width)) in cells.iter().zip(COLUMNS) {
            let _ = write!(line, "{cell:>width$} ");
        }
        line.push(' ');
        let extras = [
            ("baseline_p99ms", opt(self.baseline_p99_ms, 1)),
            ("first_delivery_s", opt(self.first_delivery_s, 2)),
            ("drain_s", opt(self.drain_s, 1)),
        ];
        for (name, value) in extras.iter().filter(|(_, v)| v != "-") {
            let _ = write!(line, "{name}={value} ");
        }
        line.trim_end().to_owned()
    }

    pub fn json_line(&self) -> String {
        serde_json::to_string(self).expect("a report serializes")
    }
}
