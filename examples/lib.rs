//! Runnable examples of goro, one file per pattern: `goro run NAME` from the lab (`goro list`
//! names them), each opening with what the pattern is for, the Go original and what to
//! watch. They live here as a library so the lab, its tour and the tests run the same code;
//! the servers too.

pub mod alloc;
pub mod async_http;
pub mod divide;
pub mod echo;
pub mod fan_out;
pub mod free_list;
pub mod generator;
pub mod http;
pub mod load;
pub mod ownership;
pub mod pattern;
pub mod pipeline;
pub mod readword;
pub mod share;
pub mod sqlite;
pub mod timeout;
pub mod tls_echo;
pub mod webio;
pub mod websocket;
pub mod worker_pool;

pub use pattern::{Pattern, Report};

/// Every pattern, in the order the tour visits them.
pub static PATTERNS: &[Pattern] = &[
    Pattern {
        name: "readword",
        title: "readword: a word from stdin, or a timeout",
        what: "One goroutine reads a word through goro::blocking; main selects on the word and \
               on a timer. The reader checks a context between short polls, so it ends when \
               main has moved on: nothing is left blocked in a read.",
        source: include_str!("readword.rs"),
        run: readword::run,
    },
    Pattern {
        name: "worker-pool",
        title: "worker pool: jobs in, results out",
        what: "N worker goroutines range over a jobs channel and send on a results channel. \
               CPU-bound jobs stop speeding up at the number of workers (OS threads); jobs \
               that wait speed up with every worker added.",
        source: include_str!("worker_pool.rs"),
        run: worker_pool::run,
    },
    Pattern {
        name: "pipeline",
        title: "pipeline: decompress and parse as it downloads",
        what: "download -> inflate -> split -> parse -> aggregate, one goroutine each, joined by \
               channels of four items: the first record is ready long before the file has \
               arrived, and a cancelled context stops every stage.",
        source: include_str!("pipeline.rs"),
        run: pipeline::run,
    },
    Pattern {
        name: "timeout",
        title: "a background call with a timeout, three ways",
        what: "select! with time::after, a context deadline, and recv_timeout. The late answer \
               lands in a one-slot buffer, or the call gives up with its context, or its send \
               fails because the receiver was dropped: no goroutine is left waiting.",
        source: include_str!("timeout.rs"),
        run: timeout::run,
    },
    Pattern {
        name: "fan-out",
        title: "fan-out to replicated services",
        what: "Three local HTTP services with a long-tailed delay. Gather-all waits for the \
               slowest; first-wins takes the fastest and cancels the rest; hedged asks a \
               second replica only when the first is slow.",
        source: include_str!("fan_out.rs"),
        run: fan_out::run,
    },
    Pattern {
        name: "free-list",
        title: "a free list of buffers (the leaky buffer)",
        what: "A buffered channel of Vec<u8> recycles buffers between producers and consumers \
               with non-blocking sends and receives; a counting allocator shows the \
               allocations it saves.",
        source: include_str!("free_list.rs"),
        run: free_list::run,
    },
    Pattern {
        name: "generator",
        title: "generators, iterators and the same fringe",
        what: "A goroutine that sends on an unbuffered channel is a coroutine; its receiver is \
               an Iterator. Comparing two trees' leaves that way is easy to write and costs \
               two switches per leaf; a hand-written iterator costs none.",
        source: include_str!("generator.rs"),
        run: generator::run,
    },
    Pattern {
        name: "share-by-communicating",
        title: "share memory by communicating: a bank three ways",
        what: "The accounts owned by one goroutine serving requests, behind a Mutex, or as \
               atomics: all keep the total, at different costs. The owner version cannot \
               race because the balances were moved into its goroutine.",
        source: include_str!("share.rs"),
        run: share::run,
    },
    Pattern {
        name: "ownership",
        title: "ownership: aliases xor mutable",
        what: "Sending a value moves it: a 64 MiB Vec crosses a channel as three words and the \
               sender cannot touch it again. The racy Go programs (a shared counter, a map \
               written twice, a slice reused after send) do not compile.",
        source: include_str!("ownership.rs"),
        run: ownership::run,
    },
    Pattern {
        name: "divide-and-conquer",
        title: "divide and conquer versus one worker per core",
        what: "A merge sort with a goroutine per recursion, down to single elements or to a \
               coarse cutoff, against one goroutine per worker and a final merge: granularity \
               decides.",
        source: include_str!("divide.rs"),
        run: divide::run,
    },
    Pattern {
        name: "async-http",
        title: "async HTTP from goroutines: hyper fetching from three replicas",
        what: "Each call asks three goro HTTP servers at once, one goroutine per replica, \
               through hyper, an async client, on goro::tokio::block_on; the first answer \
               wins. The goroutines park while tokio's reactor waits for the network.",
        source: include_str!("async_http.rs"),
        run: async_http::run,
    },
    Pattern {
        name: "websocket",
        title: "WebSocket echo with tungstenite on goro sockets",
        what: "A sync crate over goro's TcpStream: the server and every client are one \
               goroutine per connection making blocking calls that park the goroutine.",
        source: include_str!("websocket.rs"),
        run: websocket::run,
    },
    Pattern {
        name: "tls-echo",
        title: "TLS echo with rustls on goro sockets",
        what: "A certificate made at start with rcgen; rustls's blocking stream over goro's \
               TcpStream; a goroutine per connection does the handshake and echoes lines.",
        source: include_str!("tls_echo.rs"),
        run: tls_echo::run,
    },
    Pattern {
        name: "sqlite",
        title: "SQLite from goroutines: rusqlite on goro::blocking, sqlx on block_on",
        what: "Producer goroutines send rows to one writer goroutine that owns the \
               connection and commits batches of 1,000 rows: through rusqlite on the blocking \
               pool, then through sqlx, an async crate, on goro::tokio::block_on.",
        source: include_str!("sqlite.rs"),
        run: sqlite::run,
    },
];

/// Other names patterns answer to: the generator example is also the iterator one.
pub const ALIASES: &[(&str, &str)] = &[("iterator", "generator")];

/// The pattern called `name` (or one of its [`ALIASES`]).
pub fn pattern(name: &str) -> Option<&'static Pattern> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, real)| real);
    PATTERNS.iter().find(|p| p.name == name)
}
