package loadgen

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The open loop closes a connection whose response says Connection:
// close, and resends, once, a request whose kept-alive connection was
// closed under it before any answer; such a request does not fail.
func TestOpenLoopFollowsConnectionClose(t *testing.T) {
	var conns atomic.Int64
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%5 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte("{}"))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	tl := &Timeline{}
	res := OpenLoop{Addr: strings.TrimPrefix(srv.URL, "http://"), Path: "/", Rate: 200,
		Duration: 500 * time.Millisecond, MaxID: 10, Conns: 2, Timeline: tl}.Run(context.Background())
	if res.Requests != 100 || res.Success != 1 {
		t.Errorf("requests %d success %v errors %q; want 100, all answered", res.Requests, res.Success, res.Errors)
	}
	if c := conns.Load(); c < 20 {
		t.Errorf("%d connections for 100 requests, one in 5 answered with Connection: close; want at least 20", c)
	}
	if got := len(tl.Samples()); got != 100 {
		t.Errorf("timeline holds %d requests, want 100", got)
	}

	// A server that closes each connection after its first answer, without
	// saying so: every later request on it is resent on a new connection.
	var served atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil {
					return
				}
				served.Add(1)
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
			}()
		}
	}()
	res = OpenLoop{Addr: ln.Addr().String(), Path: "/", Rate: 100, Duration: 300 * time.Millisecond, MaxID: 10, Conns: 1}.Run(context.Background())
	if res.Requests != 30 || res.Success != 1 || res.Retried != 29 {
		t.Errorf("requests %d success %v retried %d errors %q; want 30 answered, 29 of them resent", res.Requests, res.Success, res.Retried, res.Errors)
	}
}
