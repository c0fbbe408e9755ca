//! `cargo run --release -p goro-examples --example http_server -- [ADDR]`: the HTTP server of
//! `goro_examples::http` (see its doc), until Ctrl-C.

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let r = goro::run(move || {
        let (ctx, _cancel) = goro::context::Context::background().with_cancel();
        match goro_examples::http::listen_and_serve(&addr, Default::default(), ctx.clone()) {
            Ok((a, _)) => println!("serving http://{a}/ and http://{a}/sleep?ms=100"),
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                return;
            }
        }
        let _ = ctx.done().recv(); // until the process is stopped
    });
    if let Err(e) = r {
        eprintln!("{e}");
        std::process::exit(2);
    }
}
