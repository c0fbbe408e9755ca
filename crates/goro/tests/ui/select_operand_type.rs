// Something that is not a receiver in a recv case: the error says what a case takes.
fn main() {
    let n = 5u8;
    goro::select! {
        recv(n) -> _ => {}
        default => {}
    }
}
