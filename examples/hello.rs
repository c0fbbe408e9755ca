//! The smallest goro program: start goroutines, let them sleep, join them.
//!
//! ```go
//! func main() {
//!     var wg sync.WaitGroup
//!     for i := 0; i < 3; i++ {
//!         wg.Add(1)
//!         go func(i int) { defer wg.Done(); fmt.Println("hello from", i) }(i)
//!     }
//!     wg.Wait()
//! }
//! ```

fn main() {
    let r = goro::run(|| {
        let hs: Vec<_> = (0..3)
            .map(|i| {
                goro::go(move || {
                    goro::time::sleep(std::time::Duration::from_millis(10 * i));
                    format!("hello from goroutine {}", goro::current_id().unwrap_or(0))
                })
            })
            .collect();
        for h in hs {
            println!("{}", h.join().unwrap());
        }
    });
    if let Err(e) = r {
        eprintln!("{e}");
        std::process::exit(2);
    }
}
