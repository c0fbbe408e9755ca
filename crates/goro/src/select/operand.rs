//! What a case of `select!` accepts as its channel: a `Receiver` or `Sender`, owned or
//! borrowed, or an `Option` of one (`None` disables the case).

use super::*;

/// What a receive case of [`select!`](crate::select!) accepts: a [`Receiver`] (owned or
/// borrowed), or an `Option` of one where `None` disables the case (Go's nil channel, C8).
///
/// # Examples
///
/// ```
/// let (tx, rx) = goro::chan::<u8>(1);
/// tx.send(1).unwrap();
/// let off: Option<goro::Receiver<u8>> = None;
/// goro::select! {
///     recv(off) -> _ => unreachable!("a disabled case is never ready"),
///     recv(rx) -> v => assert_eq!(v, Ok(1)),
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the channel of a `recv` case in `select!`",
    label = "not a receiver",
    note = "a `recv(..)` case takes a `Receiver<T>` or `&Receiver<T>`, or an `Option` of either \
            (`None` disables the case, as a nil channel does in Go); for an `Option<Receiver<T>>` \
            held elsewhere, pass `&opt` or `opt.as_ref()`"
)]
pub trait RecvOperand<T> {
    /// The receiver, or `None` if the case is disabled.
    fn receiver(&self) -> Option<&Receiver<T>>;
}

/// What a send case of [`select!`](crate::select!) accepts: a [`Sender`] (owned or
/// borrowed), or an `Option` of one where `None` disables the case.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the channel of a `send` case in `select!`",
    label = "not a sender",
    note = "a `send(tx, value)` case takes a `Sender<T>` or `&Sender<T>`, or an `Option` of either \
            (`None` disables the case, as a nil channel does in Go); for an `Option<Sender<T>>` \
            held elsewhere, pass `&opt` or `opt.as_ref()`"
)]
pub trait SendOperand<T> {
    /// The sender, or `None` if the case is disabled.
    fn sender(&self) -> Option<&Sender<T>>;
}

/// Implements an operand trait for a handle (`Receiver` or `Sender`) owned, borrowed, mutably
/// borrowed, and in an `Option` of it or of a borrow, owned or borrowed (`None` disables the
/// case).
macro_rules! operand_impls {
    ($trait:ident, $method:ident, $handle:ident) => {
        impl<T> $trait<T> for $handle<T> {
            fn $method(&self) -> Option<&$handle<T>> {
                Some(self)
            }
        }

        impl<T> $trait<T> for &$handle<T> {
            fn $method(&self) -> Option<&$handle<T>> {
                Some(self)
            }
        }

        impl<T> $trait<T> for &mut $handle<T> {
            fn $method(&self) -> Option<&$handle<T>> {
                Some(self)
            }
        }

        impl<T> $trait<T> for Option<$handle<T>> {
            fn $method(&self) -> Option<&$handle<T>> {
                self.as_ref()
            }
        }

        impl<T> $trait<T> for Option<&$handle<T>> {
            fn $method(&self) -> Option<&$handle<T>> {
                *self
            }
        }

        impl<T> $trait<T> for &Option<$handle<T>> {
            fn $method(&self) -> Option<&$handle<T>> {
                self.as_ref()
            }
        }
    };
}

operand_impls!(RecvOperand, receiver, Receiver);
operand_impls!(SendOperand, sender, Sender);
