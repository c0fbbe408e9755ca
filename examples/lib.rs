//! Runnable examples of goro, one file per pattern (`cargo run -p goro-examples --example NAME`,
//! or `goro run NAME` from the lab). The servers live here as a library so the lab and the
//! tests can start them too.

pub mod echo;
pub mod http;
pub mod load;
