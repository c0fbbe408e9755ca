// The Go twin of goro's example HTTP server (examples/http.rs), for load runs side by side:
// GET / returns a short body, GET /sleep?ms=N sleeps in its goroutine, GET /spin?ms=N
// computes for N ms in its goroutine (Go preempts it; goro's example hands the work to a
// blocking-pool thread instead).
//
//	go run ./benches/go/httpserver -addr 127.0.0.1:8081
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "hello from goro\n")
	})
	http.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 10000 {
			http.Error(w, "want /sleep?ms=N with N <= 10000", http.StatusBadRequest)
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "slept %d ms\n", ms)
	})
	http.HandleFunc("/spin", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 10000 {
			http.Error(w, "ms must be a number of milliseconds up to 10000", http.StatusBadRequest)
			return
		}
		start, rounds := time.Now(), 0
		for time.Since(start) < time.Duration(ms)*time.Millisecond {
			rounds++
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "computed %d rounds in %d ms\n", rounds, ms)
	})
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 8 * 1024}
	log.Fatal(srv.ListenAndServe())
}
