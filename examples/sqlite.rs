//! A database from goroutines: SQLite through `rusqlite`, a sync crate whose calls block
//! the thread, run on `goro::blocking` so the worker goes on with other goroutines.
//!
//! The worker-pool pattern writing rows: producer goroutines make rows and send them on a
//! channel; a writer goroutine owns the connection, gathers rows into batches, and commits
//! each batch in one transaction on a blocking-pool thread. SQLite takes one writer at a
//! time, so one connection writes, as a Go program with `database/sql` and
//! `SetMaxOpenConns(1)` for SQLite would.
//!
//! ```go
//! for row := range rows { batch = append(batch, row); if len(batch) == 1000 { commit(db, batch) } }
//! ```
//!
//! Watch: rows per second, and that every row is there afterwards.

use std::time::Instant;

use rusqlite::Connection;

use crate::pattern::{leaked_goroutines, scaled, Report};

/// Rows per transaction.
const BATCH: usize = 1000;

/// Commits `rows` in one transaction.
fn commit(db: &mut Connection, rows: &[(u64, String)]) -> rusqlite::Result<()> {
    let tx = db.transaction()?;
    {
        let mut st = tx.prepare_cached("INSERT INTO items (id, name) VALUES (?1, ?2)")?;
        for (id, name) in rows {
            st.execute((id, name))?;
        }
    }
    tx.commit()
}

/// Runs the example (`scale` shrinks the number of rows).
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let path = std::env::temp_dir().join(format!(
        "goro-sqlite-{}-{}.db",
        std::process::id(),
        fastrand::u64(..)
    ));
    let mut db = Connection::open(&path).map_err(|e| format!("open: {e}"))?;
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    )
    .map_err(|e| format!("schema: {e}"))?;
    let rows = scaled(100_000, scale, 2_000) as u64;
    let producers = 4u64;
    let t = Instant::now();
    // tour:begin: the lines `goro tour` shows
    let (tx, rx) = goro::chan::<(u64, String)>(BATCH);
    for p in 0..producers {
        let tx = tx.clone();
        goro::go(move || {
            for id in (p..rows).step_by(producers as usize) {
                let _ = tx.send((id, format!("item {id}")));
            }
        });
    }
    drop(tx);
    let writer = goro::go(move || -> Result<Connection, String> {
        let mut batch = Vec::with_capacity(BATCH);
        for row in &rx {
            batch.push(row);
            if batch.len() == BATCH {
                goro::blocking(|| commit(&mut db, &batch)).map_err(|e| e.to_string())?;
                batch.clear();
            }
        }
        goro::blocking(|| commit(&mut db, &batch)).map_err(|e| e.to_string())?;
        Ok(db)
    });
    // tour:end
    let db = writer.join().map_err(|e| e.to_string())??;
    let secs = t.elapsed().as_secs_f64();
    let (count, sum): (u64, u64) = db
        .query_row("SELECT COUNT(*), SUM(id) FROM items", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| e.to_string())?;
    drop(db);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    if count != rows || sum != rows * (rows - 1) / 2 {
        return Err(format!(
            "{count} rows (sum {sum}) in the table, {rows} sent"
        ));
    }
    let rate = rows as f64 / secs;
    Ok(Report {
        lines: vec![
            format!("{producers} producer goroutines, {rows} rows, one writer committing {BATCH} rows a transaction"),
            "each commit runs on goro::blocking: the worker goes on meanwhile".into(),
            format!("all {count} rows are in the table afterwards"),
        ],
        figure: format!("{rate:.0} rows/s"),
        bars: vec![("rows/s".into(), rate)],
        unit: "rows/s",
        leaked: leaked_goroutines(before),
    })
}
