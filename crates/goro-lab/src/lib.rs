//! The goro lab as a library: the tour's stops and the benchmark workloads, so that tests can
//! run them at small sizes. The `goro` binary (`src/main.rs`) is the front door.

pub mod alloc;
pub mod bench;
pub mod run;
pub mod study;
pub mod tour;
pub mod trace_anim;
pub mod trace_view;
