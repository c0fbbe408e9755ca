//! The checklist of shared/SEMANTICS.md, one test per line, named after the line.

mod memory;
mod runtime;
