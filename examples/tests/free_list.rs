//! The free-list pattern's allocation counts, in a test binary of its own: the counting
//! allocator counts the whole process, so no other test may run beside it.

use goro_examples::{alloc, free_list};

#[global_allocator]
static ALLOC: alloc::Counting<std::alloc::System> = alloc::Counting(std::alloc::System);

mod common;

use common::on;

#[test]
fn a_free_list_saves_allocations_and_changes_no_result() {
    on(2, || {
        let without = free_list::pass(2, 2, 500, false);
        let with = free_list::pass(2, 2, 500, true);
        assert_eq!(with.messages, 1000);
        assert_eq!(with.checksum, without.checksum);
        let (a, b) = (without.allocs.unwrap(), with.allocs.unwrap());
        assert!(a >= 1000, "one buffer per message without: {a}");
        assert!(b * 5 < a, "with the free list {b}, without {a}");
    });
    counting_sees_allocations_and_the_peak();
}

/// Called from the test above, not a test of its own: two tests would run at once and count
/// each other's allocations.
fn counting_sees_allocations_and_the_peak() {
    let (v, a) = alloc::count(|| vec![0u8; 1 << 20]);
    let a = a.expect("this binary counts");
    assert!(
        a.count >= 1 && a.bytes >= 1 << 20 && a.peak >= 1 << 20,
        "{a:?}"
    );
    drop(v);
    let (_, a) = alloc::count(|| drop(vec![0u8; 4096]));
    assert_eq!(a.unwrap().peak, 4096);
}
