// A send value of the wrong type: the error points at the value.
fn main() {
    let (tx, _rx) = goro::chan::<u32>(1);
    goro::select! {
        send(tx, "one") -> _ => {}
        default => {}
    }
}
