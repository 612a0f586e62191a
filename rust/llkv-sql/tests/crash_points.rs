//! Power loss at every point of a workload: the database must reopen in the
//! state of the last acknowledged commit, or of the commit in flight (if it
//! became durable), never anything else.
//!
//! The workload runs on a [`FaultPager`], which records every write and
//! sync. For each prefix of that record and each choice of which unsynced
//! writes a volatile cache had written back, the test opens an engine on the
//! crash image and compares what it reads with the states the workload went
//! through.

mod common;

use std::sync::Arc;

use common::{dump, workload};
use llkv_sql::SqlEngine;
use llkv_storage::{FaultPager, Survivors};

/// Runs the workload (after `setup` statements) on a fault-injecting pager,
/// then reopens a crash image at every operation count and survivor mode.
/// `check(seen, states, acked)` judges each recovered state, where
/// `states[k]` is what readers saw after k statements and `acked` is the
/// last statement acknowledged before the crash. Returns the number of
/// crash images checked.
fn crash_every_operation(
    pager: FaultPager,
    setup: &[&str],
    check: impl Fn(&[String], &[Vec<String>], usize) -> bool,
) -> usize {
    let pager = Arc::new(pager);
    let engine = SqlEngine::with_pager(pager.clone()).expect("open");
    let mut session = engine.session();
    for stmt in setup {
        session.execute(stmt, &[]).expect("setup");
    }
    let mut states = vec![dump(&engine)];
    let mut ends = vec![pager.operations()];
    for stmt in workload() {
        session
            .execute(&stmt, &[])
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
        states.push(dump(&engine));
        ends.push(pager.operations());
    }
    let total = pager.operations();
    let mut checked = 0;
    for ops in 0..=total {
        let acked = ends.iter().rposition(|e| *e <= ops).unwrap_or(0);
        for survivors in [
            Survivors::None,
            Survivors::All,
            Survivors::LastOnly,
            Survivors::AllButLast,
        ] {
            let image = pager.crash_image(ops, survivors).expect("image");
            let reopened = SqlEngine::with_pager(Arc::new(image))
                .unwrap_or_else(|e| panic!("reopen after {ops} ops ({survivors:?}): {e}"));
            let seen = dump(&reopened);
            assert!(
                check(&seen, &states, acked),
                "after {ops} of {total} operations ({survivors:?}) the database shows\n{}\n\
                 but acknowledged statement {acked} left\n{}",
                seen.join("\n"),
                states[acked].join("\n")
            );
            checked += 1;
        }
    }
    checked
}

/// synchronous = FULL: every acknowledged statement survives; the one in
/// flight may or may not.
fn full_keeps_every_acknowledged_commit(
    seen: &[String],
    states: &[Vec<String>],
    acked: usize,
) -> bool {
    let in_flight = (acked + 1).min(states.len() - 1);
    seen == states[acked] || seen == states[in_flight]
}

/// synchronous = NORMAL: the latest commits may be lost, but what comes
/// back is always a state some statement left, never a torn one or one
/// from the future.
fn normal_keeps_some_committed_state(
    seen: &[String],
    states: &[Vec<String>],
    acked: usize,
) -> bool {
    let in_flight = (acked + 1).min(states.len() - 1);
    states[..=in_flight].iter().any(|s| s == seen)
}

#[test]
fn every_crash_point_recovers_to_a_committed_state() {
    let checked =
        crash_every_operation(FaultPager::new(), &[], full_keeps_every_acknowledged_commit);
    assert!(checked >= 1000, "only {checked} crash points");
}

#[test]
fn normal_synchronous_recovers_to_some_earlier_committed_state() {
    let checked = crash_every_operation(
        FaultPager::new(),
        &["PRAGMA synchronous = NORMAL"],
        normal_keeps_some_committed_state,
    );
    assert!(checked >= 500, "only {checked} crash points");
}

#[test]
fn logged_commits_recover_to_a_committed_state_at_every_crash_point() {
    // A pager with a write-ahead log (as the file pager): the table store
    // writes no barriers and relies on the commit mark alone.
    let checked = crash_every_operation(
        FaultPager::with_atomic_commits(),
        &[],
        full_keeps_every_acknowledged_commit,
    );
    assert!(checked >= 500, "only {checked} crash points");
    let checked = crash_every_operation(
        FaultPager::with_atomic_commits(),
        &["PRAGMA synchronous = NORMAL"],
        normal_keeps_some_committed_state,
    );
    assert!(checked >= 500, "only {checked} crash points");
}
