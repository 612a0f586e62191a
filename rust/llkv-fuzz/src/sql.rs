//! SQL text → engine: every statement of the input runs against a small
//! seeded database (parse, bind, plan, execute); errors are fine, and
//! afterwards `PRAGMA integrity_check` must say `ok`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use llkv::{Database, Interrupt};

/// The seeded schema: keys, a unique column, a foreign key, an index, a
/// view, a trigger, and a few rows of each type.
const SEED: &str = "
CREATE TABLE t1 (a INTEGER PRIMARY KEY, b TEXT, c DOUBLE, d DATE, e DECIMAL(10,2));
CREATE TABLE t2 (x INTEGER REFERENCES t1 (a), y TEXT UNIQUE, z BOOLEAN, w BLOB);
CREATE INDEX t1_b ON t1 (b);
CREATE VIEW v1 AS SELECT a, b FROM t1 WHERE c > 0;
CREATE TABLE log (n INTEGER);
CREATE TRIGGER t2_log AFTER INSERT ON t2 BEGIN INSERT INTO log VALUES (NEW.x); END;
INSERT INTO t1 VALUES (1, 'one', 1.5, '2024-01-01', 3.25), (2, 'two', -2.0, NULL, NULL),
    (3, NULL, NULL, '1999-12-31', -0.5), (4, '', 0.0, '2000-02-29', 0);
INSERT INTO t2 VALUES (1, 'a', true, x'00ff'), (2, 'b', false, NULL), (NULL, NULL, NULL, x'');
";

/// How long one statement may run before it is interrupted: an input
/// that is merely expensive (a huge `range`, a cross join) must not be
/// reported as a hang.
const STATEMENT_BUDGET: Duration = Duration::from_millis(250);

/// Runs the input's statements, then checks the database.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let db = Database::open_in_memory().expect("an in-memory database opens");
    let mut con = db.connect();
    con.disable_file_access();
    con.execute(SEED, &[]).expect("the seed schema loads");
    let deadline = Arc::new(AtomicU64::new(0));
    let poll_deadline = deadline.clone();
    let poll = move || now_nanos() > poll_deadline.load(Ordering::Relaxed);
    con.set_interrupt(Some(Arc::new(Interrupt::new(Some(Box::new(poll))))));
    // Statement by statement (rendered back to SQL by the parser), so one
    // failing statement does not stop the rest; text that does not parse
    // runs whole.
    let statements = llkv::split_statements(&text).unwrap_or_else(|_| vec![text.to_string()]);
    for statement in &statements {
        let budget = STATEMENT_BUDGET.as_nanos() as u64;
        deadline.store(now_nanos() + budget, Ordering::Relaxed);
        let _ = con.execute(statement, &[]);
    }
    let mut checker = db.connect();
    let check = checker
        .execute("PRAGMA integrity_check", &[])
        .expect("the integrity check runs");
    let column = check.batches[0].column(0);
    let text = arrow_array::cast::AsArray::as_string::<i32>(column.as_ref());
    assert_eq!(text.value(0), "ok", "integrity check after {statements:?}");
}

/// Nanoseconds since the first call in this process.
fn now_nanos() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}
