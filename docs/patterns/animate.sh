#!/usr/bin/env bash
# Regenerates the animated SVG of every pattern (docs/patterns/NAME.anim.svg) from a small
# traced run of it: `goro run NAME --scale 0.01 --animate ...`. The lab's tests check that
# each one was made by the current renderer from the current pattern source; run this after
# changing either.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q
for p in readword worker-pool pipeline timeout fan-out free-list generator \
    share-by-communicating ownership divide-and-conquer; do
    ./target/release/goro run "$p" --scale 0.01 --workers 2 \
        --animate "docs/patterns/$p.anim.svg" < /dev/null > /dev/null
    echo "docs/patterns/$p.anim.svg"
done
