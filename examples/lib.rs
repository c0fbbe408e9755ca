//! Runnable examples of goro, one file per pattern (`cargo run -p goro-examples --example NAME`).
