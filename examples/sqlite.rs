//! A database from goroutines, two ways: SQLite through `rusqlite`, a sync crate whose calls
//! block the thread, run on `goro::blocking` so the worker goes on with other goroutines;
//! and through `sqlx`, an async crate, on `goro::tokio::block_on`.
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
//! Watch: rows per second each way, and that every row is there afterwards.

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

/// A fresh database file, WAL mode, with the table; its path.
fn fresh_db(tag: &str) -> Result<(std::path::PathBuf, Connection), String> {
    let path = std::env::temp_dir().join(format!(
        "goro-{tag}-{}-{}.db",
        std::process::id(),
        fastrand::u64(..)
    ));
    let db = Connection::open(&path).map_err(|e| format!("open: {e}"))?;
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    )
    .map_err(|e| format!("schema: {e}"))?;
    Ok((path, db))
}

/// Starts `producers` goroutines sending `rows` rows between them on the returned channel.
fn produce(rows: u64, producers: u64) -> goro::Receiver<(u64, String)> {
    let (tx, rx) = goro::chan::<(u64, String)>(BATCH);
    for p in 0..producers {
        let tx = tx.clone();
        goro::go(move || {
            for id in (p..rows).step_by(producers as usize) {
                let _ = tx.send((id, format!("item {id}")));
            }
        });
    }
    rx
}

/// Writes every row of `rx` through rusqlite, committing on the blocking pool.
fn write_rusqlite(mut db: Connection, rx: goro::Receiver<(u64, String)>) -> Result<(), String> {
    // tour:begin: the lines `goro tour` shows
    let mut batch = Vec::with_capacity(BATCH);
    for row in &rx {
        batch.push(row);
        if batch.len() == BATCH {
            goro::blocking(|| commit(&mut db, &batch)).map_err(|e| e.to_string())?;
            batch.clear();
        }
    }
    goro::blocking(|| commit(&mut db, &batch)).map_err(|e| e.to_string())
    // tour:end
}

/// Writes every row of `rx` through sqlx, each batch one transaction awaited on the
/// goroutine.
fn write_sqlx(path: &std::path::Path, rx: goro::Receiver<(u64, String)>) -> Result<(), String> {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}", path.display());
    let mut conn = goro::tokio::block_on(sqlx::SqliteConnection::connect(&url))
        .map_err(|e| format!("sqlx connect: {e}"))?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut rows = rx.iter().fuse();
    loop {
        batch.clear();
        batch.extend(rows.by_ref().take(BATCH));
        if batch.is_empty() {
            break;
        }
        goro::tokio::block_on(async {
            let mut tx = conn.begin().await?;
            for (id, name) in &batch {
                sqlx::query("INSERT INTO items (id, name) VALUES (?1, ?2)")
                    .bind(*id as i64)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })
        .map_err(|e| format!("sqlx: {e}"))?;
    }
    goro::tokio::block_on(conn.close()).map_err(|e| format!("sqlx close: {e}"))
}

/// Checks that the table at `path` holds rows 0..rows, then removes the database.
fn check_and_remove(path: &std::path::Path, rows: u64) -> Result<(), String> {
    let db = Connection::open(path).map_err(|e| e.to_string())?;
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
    Ok(())
}

/// Runs the example (`scale` shrinks the number of rows).
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let rows = scaled(100_000, scale, 2_000) as u64;
    let producers = 4u64;

    let (path, db) = fresh_db("rusqlite")?;
    let t = Instant::now();
    let rx = produce(rows, producers);
    goro::go(move || write_rusqlite(db, rx))
        .join()
        .map_err(|e| e.to_string())??;
    let rusqlite_rate = rows as f64 / t.elapsed().as_secs_f64();
    check_and_remove(&path, rows)?;

    let (path, db) = fresh_db("sqlx")?;
    drop(db);
    let t = Instant::now();
    let rx = produce(rows, producers);
    let p2 = path.clone();
    goro::go(move || write_sqlx(&p2, rx))
        .join()
        .map_err(|e| e.to_string())??;
    let sqlx_rate = rows as f64 / t.elapsed().as_secs_f64();
    check_and_remove(&path, rows)?;

    Ok(Report {
        lines: vec![
            format!("{producers} producer goroutines, {rows} rows, one writer committing {BATCH} rows a transaction"),
            "rusqlite: each commit runs on goro::blocking; sqlx: each transaction is awaited on goro::tokio::block_on".into(),
            format!("both tables hold all {rows} rows afterwards"),
        ],
        figure: format!("rusqlite {rusqlite_rate:.0} rows/s, sqlx {sqlx_rate:.0} rows/s"),
        bars: vec![
            ("rusqlite".into(), rusqlite_rate),
            ("sqlx".into(), sqlx_rate),
        ],
        unit: "rows/s",
        leaked: leaked_goroutines(before),
    })
}
