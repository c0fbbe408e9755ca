//! The checklist of docs/SEMANTICS.md, one test per line, named after the line.

mod channels;
#[path = "../common/mod.rs"]
mod common;
mod memory;
mod runtime;
mod select;
mod timers;
