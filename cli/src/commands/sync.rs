//! `sync` and `verify` between two directories, or a directory and a server.

use super::sides::{
    client_options, initiator_direction, open_sides, run_session, session_id, Create, Side,
};
use super::summary::{print_sync, print_verify, Sides};
use crate::args::{DirectionArg, ModeArg, SyncArgs, VerifyArgs};
use crate::error::CliResult;
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::SyncPolicy;

fn mode(m: ModeArg) -> SyncMode {
    match m {
        ModeArg::Auto => SyncMode::Auto,
        ModeArg::Incremental => SyncMode::Incremental,
        ModeArg::Full => SyncMode::Full,
        ModeArg::Hybrid => SyncMode::Hybrid,
        ModeArg::Reconcile => SyncMode::Reconcile,
    }
}

fn direction(d: DirectionArg) -> SyncDirection {
    match d {
        DirectionArg::Pull => SyncDirection::Pull,
        DirectionArg::Push => SyncDirection::Push,
        DirectionArg::Both => SyncDirection::Both,
    }
}

fn tables(t: &[String]) -> Option<Vec<String>> {
    if t.is_empty() {
        None
    } else {
        Some(t.to_vec())
    }
}

fn describe(label: &str, given: &str, region: &Option<String>) {
    match region {
        Some(r) => println!("{label}: {given} (region '{r}')"),
        None => println!("{label}: {given} (server)"),
    }
}

/// `tablesync sync`.
pub fn sync(a: &SyncArgs, region: Option<&str>, policy: SyncPolicy) -> CliResult<()> {
    let (src, dst) = (Side::parse(&a.src)?, Side::parse(&a.dst)?);
    let client = client_options(a.ca.clone(), a.insecure_http);
    let mut opened = open_sides(
        &src,
        &dst,
        a.token.as_deref(),
        &client,
        region,
        policy,
        Create::Dst,
    )?;
    let from_src = direction(a.direction);
    let config = SyncConfig {
        tables: tables(&a.tables),
        session_id: session_id()?,
        ..SyncConfig::new(mode(a.mode), initiator_direction(from_src, opened.swapped))
    };
    let report = match run_session(
        &mut opened.initiator,
        &mut |frame, cap| opened.remote.exchange(frame, cap),
        config,
        "syncing",
    ) {
        Ok(r) => r,
        Err(e) => {
            // Flush what a partial session applied; the session's error is the one to report.
            let _ = opened.close();
            return Err(e);
        }
    };
    let swapped = opened.swapped;
    describe("SRC", &a.src, &opened.src_region);
    describe("DST", &a.dst, &opened.dst_region);
    opened.close()?;
    print_sync(
        &report,
        &Sides {
            src: "SRC",
            dst: "DST",
            swapped,
        },
        from_src,
    );
    Ok(())
}

/// `tablesync verify`; returns whether every table matches.
pub fn verify(a: &VerifyArgs, region: Option<&str>) -> CliResult<bool> {
    let (src, dst) = (Side::parse(&a.src)?, Side::parse(&a.dst)?);
    let client = client_options(a.ca.clone(), a.insecure_http);
    let mut opened = open_sides(
        &src,
        &dst,
        a.token.as_deref(),
        &client,
        region,
        SyncPolicy::Always,
        Create::Never,
    )?;
    let config = SyncConfig {
        tables: tables(&a.tables),
        session_id: session_id()?,
        ..SyncConfig::new(SyncMode::Verify, SyncDirection::Both)
    };
    let report = match run_session(
        &mut opened.initiator,
        &mut |frame, cap| opened.remote.exchange(frame, cap),
        config,
        "verifying",
    ) {
        Ok(r) => r,
        Err(e) => {
            // Flush what a partial session applied; the session's error is the one to report.
            let _ = opened.close();
            return Err(e);
        }
    };
    let swapped = opened.swapped;
    describe("SRC", &a.src, &opened.src_region);
    describe("DST", &a.dst, &opened.dst_region);
    opened.close()?;
    let all = print_verify(
        &report,
        &Sides {
            src: "SRC",
            dst: "DST",
            swapped,
        },
        a.keys,
    );
    let n = report.tables.len();
    if all {
        println!(
            "MATCH: {n} table{} identical",
            if n == 1 { "" } else { "s" }
        );
    } else {
        let differ = report
            .tables
            .iter()
            .filter(|t| t.local.is_none() || t.local != t.remote)
            .count();
        println!("DIFFER: {differ} of {n} tables differ");
    }
    Ok(all)
}
