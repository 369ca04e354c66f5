//! The cluster families of `/metrics` (Prometheus/OpenMetrics text) of a
//! region served with a cluster directory: the map epoch, forwarding to
//! each replica region labelled with its datacenter (queued, sent,
//! dropped), the same summed per datacenter, requests handled per kind,
//! and the 2PC state.

use super::node::ClusterNode;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A label value with `\`, `"` and newlines escaped.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# TYPE {name} {kind}\n# HELP {name} {help}");
}

/// The cluster lines (no final `# EOF`).
pub fn render(node: &ClusterNode) -> String {
    let map = node.map();
    let dc_of = |region: &str| {
        map.as_ref()
            .and_then(|m| m.datacenter_of_region(region))
            .map(|d| d.name.clone())
            .unwrap_or_default()
    };
    let mut out = String::new();
    family(
        &mut out,
        "tablesync_cluster_map_epoch",
        "gauge",
        "Epoch of the cluster map this region holds (0: none)",
    );
    let _ = writeln!(
        out,
        "tablesync_cluster_map_epoch {}",
        map.as_ref().map_or(0, |m| m.epoch)
    );
    let lag = node.forward_lag();
    let mut per_dc: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for (region, (q, s, d)) in &lag {
        let e = per_dc.entry(dc_of(region)).or_default();
        e.0 += q;
        e.1 += s;
        e.2 += d;
    }
    let series = [
        (
            "tablesync_cluster_forward_queued",
            "gauge",
            "Committed records waiting to be forwarded to a replica region",
            "",
        ),
        (
            "tablesync_cluster_forward_sent",
            "counter",
            "Records forwarded to a replica region",
            "_total",
        ),
        (
            "tablesync_cluster_forward_dropped",
            "counter",
            "Records dropped from a full forwarding queue (the replica catches up by sync)",
            "_total",
        ),
    ];
    for (i, (name, kind, help, suffix)) in series.iter().enumerate() {
        family(&mut out, name, kind, help);
        for (region, v) in &lag {
            let v = [v.0, v.1, v.2][i];
            let _ = writeln!(
                out,
                "{name}{suffix}{{region=\"{}\",datacenter=\"{}\"}} {v}",
                esc(region),
                esc(&dc_of(region))
            );
        }
        let dc_name = format!("{name}_datacenter");
        family(
            &mut out,
            &dc_name,
            kind,
            &format!("{help}, summed per datacenter"),
        );
        for (dc, v) in &per_dc {
            let v = [v.0, v.1, v.2][i];
            let _ = writeln!(out, "{dc_name}{suffix}{{datacenter=\"{}\"}} {v}", esc(dc));
        }
    }
    family(
        &mut out,
        "tablesync_cluster_requests",
        "counter",
        "Cluster requests this region handled, per kind",
    );
    for (kind, n) in node.handled() {
        let _ = writeln!(
            out,
            "tablesync_cluster_requests_total{{kind=\"{kind}\"}} {n}"
        );
    }
    let (in_doubt, running, unacked) = node.txn_status();
    for (name, help, v) in [
        (
            "tablesync_cluster_txn_in_doubt",
            "Prepared 2PC transactions waiting for their decision",
            in_doubt,
        ),
        (
            "tablesync_cluster_txn_running",
            "2PC transactions this region coordinates that are not decided",
            running,
        ),
        (
            "tablesync_cluster_txn_unacknowledged",
            "Decided 2PC transactions not yet acknowledged by every participant",
            unacked,
        ),
    ] {
        family(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{name} {v}");
    }
    out
}
