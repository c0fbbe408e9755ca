//! Why a goroutine is parked: Go's `waitReason`, shown in goroutine dumps and deadlock reports.
//!
//! Each primitive records its reason in the goroutine's header just before it parks (one byte,
//! in what was padding); the dump reads it from the worker that owns the goroutine.

use std::fmt;

use crate::sched::worker;

/// What a parked goroutine waits for. `Display` gives Go's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum WaitReason {
    /// Parked through [`park`](crate::park) directly.
    Park = 0,
    /// A channel receive.
    ChanReceive,
    /// A channel send.
    ChanSend,
    /// A `select!` or `Select`.
    Select,
    /// A `select!` with no enabled case and no deadline: for ever.
    SelectNoCases,
    /// `time::sleep`.
    Sleep,
    /// A socket read or write.
    IoWait,
    /// `sync::Mutex::lock`.
    MutexLock,
    /// `sync::RwLock::read`.
    RwLockRead,
    /// `sync::RwLock::write`.
    RwLockWrite,
    /// `sync::Cond::wait`.
    CondWait,
    /// `sync::Semaphore::acquire`.
    Semacquire,
    /// Another goroutine runs a `sync::OnceLock` initialiser.
    OnceInit,
    /// `sync::WaitGroup::wait`.
    WaitGroupWait,
    /// `JoinHandle::join`.
    Join,
    /// `goro::blocking`.
    BlockingCall,
    /// `goro::block_on`: a future that is not ready yet.
    BlockOn,
}

impl WaitReason {
    const ALL: [WaitReason; 17] = [
        WaitReason::Park,
        WaitReason::ChanReceive,
        WaitReason::ChanSend,
        WaitReason::Select,
        WaitReason::SelectNoCases,
        WaitReason::Sleep,
        WaitReason::IoWait,
        WaitReason::MutexLock,
        WaitReason::RwLockRead,
        WaitReason::RwLockWrite,
        WaitReason::CondWait,
        WaitReason::Semacquire,
        WaitReason::OnceInit,
        WaitReason::WaitGroupWait,
        WaitReason::Join,
        WaitReason::BlockingCall,
        WaitReason::BlockOn,
    ];

    pub(crate) fn from_u8(v: u8) -> WaitReason {
        Self::ALL
            .get(usize::from(v))
            .copied()
            .unwrap_or(WaitReason::Park)
    }
}

impl WaitReason {
    /// Go's wording, as `Display` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::Park => "park",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::Sleep => "sleep",
            WaitReason::IoWait => "IO wait",
            WaitReason::MutexLock => "sync.Mutex.Lock",
            WaitReason::RwLockRead => "sync.RWMutex.RLock",
            WaitReason::RwLockWrite => "sync.RWMutex.Lock",
            WaitReason::CondWait => "sync.Cond.Wait",
            WaitReason::Semacquire => "semacquire",
            WaitReason::OnceInit => "sync.Once.Do",
            WaitReason::WaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::Join => "goroutine join",
            WaitReason::BlockingCall => "blocking call",
            WaitReason::BlockOn => "block_on",
        }
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Records why the calling goroutine is about to park (nothing on a plain thread).
pub(crate) fn set(reason: WaitReason) {
    worker::set_wait_reason(reason as u8, 0);
}

/// Records why the calling goroutine is about to park, and on what (a channel's or a
/// primitive's address, shown in dumps to tell which goroutines wait on the same thing).
pub(crate) fn set_on(reason: WaitReason, object: usize) {
    worker::set_wait_reason(reason as u8, object);
}

/// One channel a goroutine blocked for ever waits on, as the leak check sees it
/// (`debug::leaks`): the word each of its handles holds, and how many handles exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Holding {
    pub(crate) word: usize,
    pub(crate) handles: usize,
}

/// What a goroutine blocked without a deadline waits on, for the leak check. Registered
/// with [`set_holds`] just before the park; read by the goroutine's worker, while the
/// goroutine is still suspended inside that park, which keeps the object alive.
pub(crate) trait Holds {
    fn holds(&self, out: &mut Vec<Holding>);
}

/// Registers what the calling goroutine is about to wait on for ever (after [`set_on`] or
/// [`set`], which clear it). `h` must stay alive until the goroutine has parked and been
/// resumed: it lives in the frame of the blocking operation.
///
/// A wait that completes without parking leaves it registered; that is harmless because
/// every park is preceded by its primitive recording a wait reason, which clears it, and
/// the worker takes it at the first park after it was registered.
pub(crate) fn set_holds(h: &dyn Holds) {
    worker::set_wait_holds(erase(h));
}

/// `h` as the pointer the worker keeps (see [`set_holds`]).
pub(crate) fn erase(h: &dyn Holds) -> std::ptr::NonNull<dyn Holds> {
    let p = std::ptr::NonNull::from(h);
    // SAFETY: only the lifetime is erased. The worker reads the object only while the
    // goroutine is suspended in the park that follows, inside the frame that owns `h`
    // (see `Holds`).
    unsafe {
        std::mem::transmute::<
            std::ptr::NonNull<dyn Holds + '_>,
            std::ptr::NonNull<dyn Holds + 'static>,
        >(p)
    }
}

/// The word an `Arc` holds: the address of its allocation, shared by all its clones.
pub(crate) fn handle_word<T>(a: &std::sync::Arc<T>) -> usize {
    const { assert!(size_of::<std::sync::Arc<T>>() == size_of::<usize>()) };
    // SAFETY: an `Arc` of a sized type is one pointer (checked above), copied out as a word.
    unsafe { std::mem::transmute_copy::<std::sync::Arc<T>, usize>(a) }
}
