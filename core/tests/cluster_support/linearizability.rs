//! A linearizability checker for one register (Wing & Gong's search with
//! Lowe's memoization of (linearized set, state) pairs, as Porcupine does).
//!
//! Operations: `Write(v)` and `Read -> Option<v>`. An operation that never
//! returned (timed out) may or may not have taken effect: its return time
//! is infinite, and it need not be linearized. Reads that never returned
//! are dropped (they constrain nothing).

use std::collections::HashSet;

/// A register operation and, for reads, what it returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegOp {
    /// Store a value.
    Write(u64),
    /// Read, returning the value seen (`None`: never written).
    Read(Option<u64>),
}

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When the client called it.
    pub call: i64,
    /// When it returned; `None` if it never did.
    pub ret: Option<i64>,
    /// The operation (with a read's result).
    pub op: RegOp,
}

/// Whether `history` (on a register starting empty) is linearizable.
/// At most 64 operations after dropping unanswered reads.
pub fn is_linearizable(history: &[Event]) -> bool {
    let ops: Vec<&Event> = history
        .iter()
        .filter(|e| !(e.ret.is_none() && matches!(e.op, RegOp::Read(_))))
        .collect();
    assert!(ops.len() <= 64, "the checker handles at most 64 operations");
    let n = ops.len();
    let must: u64 = ops
        .iter()
        .enumerate()
        .filter(|(_, e)| e.ret.is_some())
        .fold(0, |m, (i, _)| m | (1 << i));
    let ret = |i: usize| ops[i].ret.unwrap_or(i64::MAX);
    let mut seen: HashSet<(u64, Option<u64>)> = HashSet::new();
    // Iterative DFS over (linearized set, register value).
    let mut stack: Vec<(u64, Option<u64>)> = vec![(0, None)];
    while let Some((done, value)) = stack.pop() {
        if done & must == must {
            return true;
        }
        if !seen.insert((done, value)) {
            continue;
        }
        // The earliest return among operations not yet linearized: only an
        // operation called before it can come next.
        let horizon = (0..n)
            .filter(|i| done & (1 << i) == 0)
            .map(ret)
            .min()
            .unwrap_or(i64::MAX);
        for (i, e) in ops.iter().enumerate() {
            if done & (1 << i) != 0 || e.call > horizon {
                continue;
            }
            let next = match e.op {
                RegOp::Write(v) => Some(Some(v)),
                RegOp::Read(r) if r == value => Some(value),
                RegOp::Read(_) => None,
            };
            if let Some(v) = next {
                stack.push((done | (1 << i), v));
            }
        }
    }
    false
}

/// Known histories the checker must classify (used by the checker's own tests).
pub fn known_cases() -> Vec<(&'static str, Vec<Event>, bool)> {
    let w = |call, ret, v| Event {
        call,
        ret: Some(ret),
        op: RegOp::Write(v),
    };
    let r = |call, ret, v: Option<u64>| Event {
        call,
        ret: Some(ret),
        op: RegOp::Read(v),
    };
    let wp = |call, v| Event {
        call,
        ret: None,
        op: RegOp::Write(v),
    };
    vec![
        ("empty", vec![], true),
        ("read of nothing", vec![r(0, 1, None)], true),
        ("write then read", vec![w(0, 1, 1), r(2, 3, Some(1))], true),
        (
            "stale read after a completed write",
            vec![w(0, 1, 1), r(2, 3, None)],
            false,
        ),
        (
            "read of a value never written",
            vec![r(0, 1, Some(9))],
            false,
        ),
        (
            "concurrent read may see old or new",
            vec![w(0, 10, 1), r(1, 2, None), r(3, 4, Some(1))],
            true,
        ),
        (
            "new then old: the register went back",
            vec![w(0, 10, 1), r(1, 2, Some(1)), r(3, 4, None)],
            false,
        ),
        (
            "two writes observed in opposite orders by sequential reads",
            vec![
                w(0, 10, 1),
                w(0, 10, 2),
                r(11, 12, Some(2)),
                r(13, 14, Some(1)),
            ],
            false,
        ),
        (
            "two concurrent writes, reads agree on the order",
            vec![
                w(0, 10, 1),
                w(0, 10, 2),
                r(11, 12, Some(1)),
                r(13, 14, Some(1)),
            ],
            true,
        ),
        (
            "a timed-out write may take effect later",
            vec![wp(0, 5), r(100, 101, Some(5))],
            true,
        ),
        (
            "a timed-out write may never take effect",
            vec![wp(0, 5), r(100, 101, None)],
            true,
        ),
        (
            "a timed-out write cannot take effect twice around another write",
            vec![
                wp(0, 5),
                r(10, 11, Some(5)),
                w(20, 21, 6),
                r(30, 31, Some(5)),
            ],
            false,
        ),
        (
            "overlapping reads may straddle a write",
            vec![w(0, 100, 1), r(10, 50, Some(1)), r(20, 60, None)],
            true,
        ),
        (
            "a read that finished before another started cannot see newer data than it",
            vec![w(0, 100, 1), r(10, 20, Some(1)), r(30, 40, None)],
            false,
        ),
    ]
}
