//! Compile-fail and pass cases for `#[barks::job]` and `pipeline!`: every
//! compile error a user can hit has a reviewed `.stderr` snapshot.
//! Regenerate with `TRYBUILD=overwrite cargo test -p ui-tests`, then review.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
