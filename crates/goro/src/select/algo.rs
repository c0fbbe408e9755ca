//! The select algorithm (steps 2-5 of the folder's doc): poll and lock orders, the lock-free
//! fast path, the locked look at every case, and linking, parking and unlinking.

use super::*;

/// Runs a select over `cases` (the algorithm in the module doc). Returns the index of the case
/// that ran, or `None` if none did before `wait` ran out.
#[doc(hidden)]
pub fn run(cases: &mut [&mut dyn Case], wait: Wait) -> Option<usize> {
    const ON_STACK: usize = 16;
    if matches!(wait, Wait::Never) {
        // A select with `default` never blocks: a loop of them must still share its worker.
        crate::sched::worker::preempt_point();
    }
    let n = cases.len();
    if n <= ON_STACK {
        let (mut poll, mut order) = ([0u32; ON_STACK], [0u32; ON_STACK]);
        select_with(cases, &mut poll[..n], &mut order[..n], wait)
    } else {
        let (mut poll, mut order) = (vec![0u32; n], vec![0u32; n]);
        select_with(cases, &mut poll, &mut order, wait)
    }
}

fn select_with(
    cases: &mut [&mut dyn Case],
    poll: &mut [u32],
    order: &mut [u32],
    wait: Wait,
) -> Option<usize> {
    // Step 2: poll order (shuffled) and lock order (by address) of the enabled cases.
    let mut k = 0;
    for (i, c) in cases.iter_mut().enumerate() {
        if c.reset() {
            poll[k] = i as u32;
            k += 1;
        }
    }
    let (poll, order) = (&mut poll[..k], &mut order[..k]);
    if k == 0 {
        return wait_without_cases(wait);
    }
    shuffle(poll);
    let poll: &[u32] = poll;
    if let Some(i) = try_ready_alone(cases, poll) {
        return Some(i);
    }
    lock_order(cases, poll, order);

    // Step 3.
    lock_all(cases, order);
    for &i in poll {
        let i = i as usize;
        if let Some(wake) = cases[i].try_now() {
            unlock_all(cases, order);
            wake_one(wake);
            cases[i].set_won(true);
            return Some(i);
        }
    }
    // Step 4.
    let deadline = match wait {
        Wait::Never => None,
        Wait::Until(d) if d <= Instant::now() => None,
        Wait::Until(d) => Some(Some(d)),
        Wait::Forever => Some(None),
    };
    let Some(deadline) = deadline else {
        unlock_all(cases, order);
        return None;
    };
    block(cases, order, deadline)
}

/// A uniform random order of the enabled cases: Fisher-Yates with one draw from the thread's
/// generator and a local xorshift after it.
fn shuffle(poll: &mut [u32]) {
    let mut x = fastrand::u64(..) | 1;
    for i in (1..poll.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Multiply-shift maps x uniformly enough onto 0..=i for a handful of cases.
        let j = ((x >> 32) * (i as u64 + 1)) >> 32;
        poll.swap(i, j as usize);
    }
}

/// The fast path: a case that looks ready is tried under its own lock alone. Only a case that
/// really completes returns from here (an operation that happened atomically under that
/// lock), so it is a valid outcome; "nothing ready" is decided only by step 3, which sees
/// every channel at one instant (S5). Poll order keeps the choice uniform (S3).
fn try_ready_alone(cases: &mut [&mut dyn Case], poll: &[u32]) -> Option<usize> {
    for &i in poll {
        let i = i as usize;
        if cases[i].looks_ready() {
            cases[i].lock();
            let done = cases[i].try_now();
            cases[i].unlock();
            if let Some(wake) = done {
                wake_one(wake);
                cases[i].set_won(true);
                return Some(i);
            }
        }
    }
    None
}

/// Writes into `order` the lock order: the poll order sorted stably by channel address, so
/// that cases on one channel keep their random order. They are linked into its queue in that
/// order, and a counterpart takes the first linked. Go gets the same from its heap sort of
/// the poll order; a lock order built from source order made the first-listed of several
/// cases on one channel win every blocked select. Insertion sort: stable, and for the handful
/// of cases a select has, cheaper than the library's stable sort.
fn lock_order(cases: &[&mut dyn Case], poll: &[u32], order: &mut [u32]) {
    order.copy_from_slice(poll);
    for j in 1..order.len() {
        let (x, key) = (order[j], cases[order[j] as usize].addr());
        let mut i = j;
        while i > 0 && cases[order[i - 1] as usize].addr() > key {
            order[i] = order[i - 1];
            i -= 1;
        }
        order[i] = x;
    }
}

/// Steps 4 and 5, with every channel locked and no case ready: links a waiter per case,
/// unlocks, parks until a counterpart completes a case or `deadline` passes, then unlinks the
/// waiters. Returns the case that won.
fn block(cases: &mut [&mut dyn Case], order: &[u32], deadline: Option<Instant>) -> Option<usize> {
    let signal = Signal::new_waiting(crate::wait::reason::WaitReason::Select, 0);
    for &i in order.iter() {
        let i = i as usize;
        // SAFETY: locked; `cases` stays borrowed (so in place) until every waiter is unlinked
        // below or by `Unlink` while unwinding.
        unsafe { cases[i].link(&signal, i) };
    }
    unlock_all(cases, order);

    // Step 5.
    let guard = Unlink {
        cases: &mut *cases,
        order,
        signal: &signal,
        armed: true,
    };
    let blocked = Blocked {
        cases: ptr::from_ref(&*guard.cases),
        order: ptr::from_ref(guard.order),
    };
    if deadline.is_none() {
        crate::wait::reason::set_holds(&blocked);
    }
    if !signal.wait_until(deadline, || signal.abort()) {
        guard.finish();
        return None;
    }
    guard.finish();
    let won = signal.case();
    cases[won].finish(signal.closed());
    cases[won].set_won(true);
    Some(won)
}

/// A select with no enabled case: default at once, or wait out the deadline, or block forever.
fn wait_without_cases(wait: Wait) -> Option<usize> {
    match wait {
        Wait::Never => None,
        Wait::Until(d) => {
            crate::wait::reason::set(crate::wait::reason::WaitReason::Sleep);
            while Instant::now() < d {
                park_until(d);
            }
            None
        }
        Wait::Forever => loop {
            crate::wait::reason::set(crate::wait::reason::WaitReason::SelectNoCases);
            // Nothing can wake this (S14); a stray unpark just parks again. At shutdown the
            // goroutine is unwound from inside `park`.
            park_quiet();
        },
    }
}

fn lock_all(cases: &[&mut dyn Case], order: &[u32]) {
    let mut last = 0;
    for &i in order {
        let a = cases[i as usize].addr();
        if a != last {
            cases[i as usize].lock();
            last = a;
        }
    }
}

fn unlock_all(cases: &[&mut dyn Case], order: &[u32]) {
    let mut last = 0;
    for &i in order.iter().rev() {
        let a = cases[i as usize].addr();
        if a != last {
            cases[i as usize].unlock();
            last = a;
        }
    }
}

/// A select blocked for ever, as the leak check sees it: the channels of its enabled cases.
/// Raw pointers, taken from the `Unlink` guard that owns the cases meanwhile: the worker
/// reads them only while the select is suspended in its park.
struct Blocked<'d> {
    cases: *const [&'d mut dyn Case],
    order: *const [u32],
}

impl crate::wait::reason::Holds for Blocked<'_> {
    fn holds(&self, out: &mut Vec<crate::wait::reason::Holding>) {
        // SAFETY: called only while the select is suspended in its park, with the cases and
        // the order in place and untouched (see `wait::Holds`).
        let (cases, order) = unsafe { (&*self.cases, &*self.order) };
        out.extend(order.iter().filter_map(|&i| cases[i as usize].holding()));
    }
}

/// Unlinks every waiter of a blocked select; dropped while armed (unwinding), it first
/// withdraws the select.
struct Unlink<'c, 'd> {
    cases: &'c mut [&'d mut dyn Case],
    order: &'c [u32],
    signal: &'c Signal,
    armed: bool,
}

impl Unlink<'_, '_> {
    fn unlink_all(&mut self) {
        lock_all(self.cases, self.order);
        for &i in self.order {
            self.cases[i as usize].unlink();
        }
        unlock_all(self.cases, self.order);
    }

    /// After DONE (or a successful withdrawal): unlink and disarm.
    fn finish(mut self) {
        self.unlink_all();
        self.armed = false;
    }
}

impl Drop for Unlink<'_, '_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Unwinding while parked: withdraw, or wait for the claimer to finish, then unlink.
        if !self.signal.abort() {
            self.signal.wait_spinning();
        }
        self.unlink_all();
    }
}
