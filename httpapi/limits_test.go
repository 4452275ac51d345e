package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSlowBodyCutOff holds many connections that send a batch body one
// byte every 100 ms, and checks that the server cuts each off at
// ReadTimeout, frees their goroutines, and meanwhile answers normal
// requests promptly.
func TestSlowBodyCutOff(t *testing.T) {
	const (
		slowConns   = 200
		readTimeout = time.Second
	)
	s := New(catalog(), Config{}, slog.New(slog.DiscardHandler), nil)
	srv := s.NewHTTPServer(Limits{ReadHeaderTimeout: readTimeout, ReadTimeout: readTimeout, WriteTimeout: 5 * time.Second, IdleTimeout: 10 * time.Second}, nil, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	// p99 of normal reads over n requests.
	normal := func(n int) (p99 time.Duration, failures int) {
		lat := make([]time.Duration, 0, n)
		for range n {
			start := time.Now()
			resp, err := client.Get("http://" + addr + "/v1/products/7/inventory")
			if err != nil {
				failures++
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failures++
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		return lat[len(lat)*99/100], failures
	}
	baseline, _ := normal(500)
	goroutinesBefore := runtime.NumGoroutine()

	var wg sync.WaitGroup
	held := make(chan time.Duration, slowConns)
	for range slowConns {
		start := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /v1/inventory:batchGet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
		wg.Add(2)
		go func() { // the slow writer: stops when the server closes
			defer wg.Done()
			for range 600 {
				time.Sleep(100 * time.Millisecond)
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		go func() { // the reader sees the connection end
			defer wg.Done()
			_, _ = io.Copy(io.Discard, c)
			held <- time.Since(start) // from its own dial
			c.Close()
		}()
	}

	// Normal requests while the slow clients hold their connections.
	during, failures := normal(500)
	if failures > 0 {
		t.Errorf("%d of 500 normal requests failed while %d slow clients were connected", failures, slowConns)
	}

	var longest time.Duration
	timeout := time.After(readTimeout + 10*time.Second)
	for range slowConns {
		select {
		case d := <-held:
			longest = max(longest, d)
		case <-timeout:
			t.Fatalf("slow clients still connected %s after the last one started (read timeout %s)", readTimeout+10*time.Second, readTimeout)
		}
	}
	wg.Wait()
	if longest > readTimeout+5*time.Second {
		t.Errorf("a slow client held its connection for %s (read timeout %s)", longest, readTimeout)
	}
	// Their goroutines are gone: the count comes back to where it was.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore+10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before the slow clients", runtime.NumGoroutine(), goroutinesBefore)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d slow-body clients each cut off within %s of its dial (read timeout %s); normal reads p99 %s alone, %s meanwhile",
		slowConns, longest.Round(time.Millisecond), readTimeout, baseline.Round(time.Microsecond), during.Round(time.Microsecond))
	// A generous bound: the machine is shared, and the point is that normal
	// requests are not queued behind the slow ones.
	if during > 250*time.Millisecond {
		t.Errorf("normal reads' p99 was %s while slow clients were connected (%s alone)", during, baseline)
	}
}
