// A hand-written Go HTTP/1.1 server: a goroutine per connection reading request heads with
// bufio, the same shape as goro's example server (examples/http.rs), without net/http's
// machinery. GET / answers a short body; keep-alive by default, `Connection: close`
// honoured (the answer says close and the connection is closed after it).
//
//	go run ./benches/go/httploop -addr 127.0.0.1:8082
package main

import (
	"bufio"
	"flag"
	"log"
	"net"
	"strings"
	"time"
)

const body = "hello from goro\n"

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		parts := strings.Fields(line)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
			w.WriteString("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			w.Flush()
			return
		}
		keep := parts[2] == "HTTP/1.1"
		for {
			h, err := r.ReadString('\n')
			if err != nil {
				return
			}
			h = strings.TrimRight(h, "\r\n")
			if h == "" {
				break
			}
			if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "connection") {
				v = strings.TrimSpace(v)
				if strings.EqualFold(v, "close") {
					keep = false
				} else if strings.EqualFold(v, "keep-alive") {
					keep = true
				}
			}
		}
		conn := "keep-alive"
		if !keep {
			conn = "close"
		}
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nConnection: " + conn + "\r\n\r\n" + body)
		if err := w.Flush(); err != nil || !keep {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		go serve(c)
	}
}
