// An arm without `-> res`: the error points at the `=>` where `->` was expected.
fn main() {
    let (_tx, rx) = goro::chan::<u32>(1);
    let _ = goro::select! {
        recv(rx) => false,
        default => true,
    };
}
