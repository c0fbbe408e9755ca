//! The `select!` macro and the helpers it expands through.

/// Waits on several channel operations and runs the first that can proceed (Go's `select`).
///
/// ```text
/// goro::select! {
///     recv(rx) -> res => ...,       // res: Result<T, RecvError>; Err means closed and drained
///     send(tx, value) -> res => ..., // res: Result<(), SendError<T>>; Err gives the value back
///     default => ...,               // optional: run if no case is ready now
///     default(timeout) => ...,      // or: run if no case is ready within `timeout`
/// }
/// ```
///
/// Operands are receivers and senders, owned or borrowed, or `Option`s of them where `None`
/// disables the case (Go's nil channel; see [`RecvOperand`](crate::select::RecvOperand),
/// [`SendOperand`](crate::select::SendOperand)). Every operand and send value is evaluated
/// once, in order, before anything else (a `default(timeout)`'s duration last); among ready
/// cases one is chosen uniformly at random; exactly one case communicates, and only its arm
/// runs. A send case that loses drops its value. A timeout is `default(timeout)`, as in
/// crossbeam, or a receive from [`time::after`](crate::time::after), as in Go. With no cases
/// and no default, `select!` blocks forever. Arms are plain code: `break`, `continue`,
/// `return` and `?` work in them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// goro::run(|| {
///     let (tx, rx) = goro::chan::<&str>(0);
///     goro::go(move || tx.send("hello").unwrap());
///     goro::select! {
///         recv(rx) -> msg => assert_eq!(msg, Ok("hello")),
///         recv(goro::time::after(Duration::from_secs(5))) -> _ => panic!("timed out"),
///     }
///     let (_keep, quiet) = goro::chan::<u8>(0);
///     let got = goro::select! {
///         recv(quiet) -> v => v.ok(),
///         default(Duration::from_millis(5)) => None,
///     };
///     assert_eq!(got, None);
/// })
/// .unwrap();
/// ```
#[macro_export]
macro_rules! select {
    // Every arm ends with a comma (the last may not) and none is `default`: parsed in one
    // step, so a select of hundreds of cases stays far inside the compiler's recursion limit
    // (the cases are then bound eight per step, see `__select_bind`).
    ($($kind:ident ($($args:tt)*) -> $p:pat => $body:expr),+ $(,)?) => {
        $crate::__select_bind!(() $(($kind ($($args)*) $p => $body))+ ; ())
    };
    // Every arm's body is a block, each followed by a comma or not, none `default`: the same.
    ($($kind:ident ($($args:tt)*) -> $p:pat => $body:block $(,)?)+) => {
        $crate::__select_bind!(() $(($kind ($($args)*) $p => $body))+ ; ())
    };
    // Anything else (expression and block arms mixed, `default`): one arm per step, which
    // reaches the compiler's default recursion limit near 60 arms.
    ($($arms:tt)*) => {
        $crate::__select_parse!(() () $($arms)*)
    };
}

/// Parses the arms of `select!` into a list of cases and an optional default.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*))
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*))
    };
    (($($c:tt)*) () default($t:expr) => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) (@timeout ($t) $body) $($rest)*)
    };
    (($($c:tt)*) () default($t:expr) => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) (@timeout ($t) $body) $($rest)*)
    };
    (($($c:tt)*) () default($t:expr) => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) (@timeout ($t) $body) $($rest)*)
    };
    (($($c:tt)*) () default($t:expr) => $body:expr) => {
        $crate::__select_parse!(($($c)*) (@timeout ($t) $body))
    };
    (($($c:tt)*) () default => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) ($body) $($rest)*)
    };
    (($($c:tt)*) () default => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) ($body) $($rest)*)
    };
    (($($c:tt)*) () default => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) ($body) $($rest)*)
    };
    (($($c:tt)*) () default => $body:expr) => {
        $crate::__select_parse!(($($c)*) ($body))
    };
    (($($c:tt)*) ($($d:tt)+) default $($rest:tt)*) => {
        ::core::compile_error!("select! has more than one `default` arm")
    };
    (($($c:tt)*) ($($d:tt)*)) => {
        $crate::__select_bind!(() $($c)* ; ($($d)*))
    };
    // The first arm that is none of the above: `__select_bad_arm` matches it against the
    // forms an arm may take, so that the compiler points at the first token that fits none.
    (($($c:tt)*) ($($d:tt)*) $($rest:tt)+) => {
        $crate::__select_bad_arm!($($rest)+)
    };
}

/// Reports an arm of `select!` that has none of the forms below. It has no rule for what
/// reaches it (a well-formed arm is parsed before), so the compiler's "no rules expected the
/// token" error points at the offending token of the user's arm, and says which form it
/// tried to match there.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_bad_arm {
    (recv($rx:expr) -> $p:pat => $body:expr , $($rest:tt)*) => {
        $crate::__select_arm_forms!()
    };
    (recv($rx:expr) -> $p:pat => $body:expr) => {
        $crate::__select_arm_forms!()
    };
    (send($tx:expr, $v:expr) -> $p:pat => $body:expr , $($rest:tt)*) => {
        $crate::__select_arm_forms!()
    };
    (send($tx:expr, $v:expr) -> $p:pat => $body:expr) => {
        $crate::__select_arm_forms!()
    };
    (default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_arm_forms!()
    };
    (default($t:expr) => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_arm_forms!()
    };
}

/// The forms of a `select!` arm, as a compile error.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_arm_forms {
    () => {
        ::core::compile_error!(
            "select! arms are `recv(rx) -> res => ...`, `send(tx, value) -> res => ...`, `default => ...` or `default(timeout) => ...`"
        )
    };
}

/// Binds each case to a fresh local, in source order (S1), then runs the select and the arm.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_bind {
    // Eight cases per step, each bound by `__select_case` to a local of its own.
    (($($b:tt)*)
        ($k1:ident $a1:tt $p1:pat => $e1:expr) ($k2:ident $a2:tt $p2:pat => $e2:expr)
        ($k3:ident $a3:tt $p3:pat => $e3:expr) ($k4:ident $a4:tt $p4:pat => $e4:expr)
        ($k5:ident $a5:tt $p5:pat => $e5:expr) ($k6:ident $a6:tt $p6:pat => $e6:expr)
        ($k7:ident $a7:tt $p7:pat => $e7:expr) ($k8:ident $a8:tt $p8:pat => $e8:expr)
        $($rest:tt)*) => {{
        $crate::__select_case!(__goro_c1 $k1 $a1);
        $crate::__select_case!(__goro_c2 $k2 $a2);
        $crate::__select_case!(__goro_c3 $k3 $a3);
        $crate::__select_case!(__goro_c4 $k4 $a4);
        $crate::__select_case!(__goro_c5 $k5 $a5);
        $crate::__select_case!(__goro_c6 $k6 $a6);
        $crate::__select_case!(__goro_c7 $k7 $a7);
        $crate::__select_case!(__goro_c8 $k8 $a8);
        $crate::__select_bind!(($($b)*
            (__goro_c1 $p1 => $e1) (__goro_c2 $p2 => $e2) (__goro_c3 $p3 => $e3)
            (__goro_c4 $p4 => $e4) (__goro_c5 $p5 => $e5) (__goro_c6 $p6 => $e6)
            (__goro_c7 $p7 => $e7) (__goro_c8 $p8 => $e8)) $($rest)*)
    }};
    (($($b:tt)*) ($k:ident $a:tt $p:pat => $e:expr) $($rest:tt)*) => {{
        $crate::__select_case!(__goro_case $k $a);
        $crate::__select_bind!(($($b)* (__goro_case $p => $e)) $($rest)*)
    }};
    (($(($case:ident $p:pat => $body:expr))*) ; ()) => {{
        $crate::select::__private::run(
            &mut [$(&mut $case as &mut dyn $crate::select::__private::Case),*],
            $crate::select::__private::Wait::Forever,
        );
        $(if $case.won() {
            let $p = $case.take_result();
            $body
        } else)* {
            ::core::unreachable!("goro: a blocking select returned without a case")
        }
    }};
    (($(($case:ident $p:pat => $body:expr))*) ; (@timeout ($t:expr) $default:expr)) => {{
        let __goro_wait = match ::std::time::Instant::now().checked_add($t) {
            ::core::option::Option::Some(d) => $crate::select::__private::Wait::Until(d),
            ::core::option::Option::None => $crate::select::__private::Wait::Forever,
        };
        $crate::select::__private::run(
            &mut [$(&mut $case as &mut dyn $crate::select::__private::Case),*],
            __goro_wait,
        );
        $(if $case.won() {
            let $p = $case.take_result();
            $body
        } else)* {
            $default
        }
    }};
    (($(($case:ident $p:pat => $body:expr))*) ; ($default:expr)) => {{
        $crate::select::__private::run(
            &mut [$(&mut $case as &mut dyn $crate::select::__private::Case),*],
            $crate::select::__private::Wait::Never,
        );
        $(if $case.won() {
            let $p = $case.take_result();
            $body
        } else)* {
            $default
        }
    }};
}

/// Binds one case of `select!` to the local `$name`, with its channel operand borrowed (a
/// temporary such as `time::after(d)` lives until the select is over).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_case {
    ($name:ident recv ($rx:expr)) => {
        let __goro_op = &$rx;
        let mut $name = $crate::select::__private::RecvCase::new(
            $crate::select::__private::RecvOperand::receiver(__goro_op),
        );
    };
    ($name:ident send ($tx:expr, $v:expr)) => {
        let __goro_op = &$tx;
        // The value is evaluated here, after the operand (S1), as the argument itself, so
        // that a value of the wrong type is reported at the value.
        let mut $name = $crate::select::__private::SendCase::new(
            $crate::select::__private::SendOperand::sender(__goro_op),
            $v,
        );
    };
    ($name:ident $other:ident $args:tt) => {
        $crate::__select_bad_arm!($other $args)
    };
}
