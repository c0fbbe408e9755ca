//! What the compiler says about a malformed `select!`: each file in tests/ui/ must fail to
//! compile with the error beside it (`.stderr`), which points at the bad arm where the macro
//! can. `TRYBUILD=overwrite cargo test -p goro --test select_diagnostics` rewrites them.

#[test]
fn select_errors_point_at_the_arm() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
