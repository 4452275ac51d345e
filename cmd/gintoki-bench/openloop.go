package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// openLoop is a fixed-rate HTTP/1.1 load much cheaper to generate than
// vegeta's: Conns keep-alive connections, each sending GET <Path><random
// id><Suffix> on its own schedule (Rate/Conns requests per second,
// staggered), one request at a time, over a raw socket with a minimal
// response parser. Latency runs from the request's scheduled time, not
// from when it went out, so a slow answer that delays the next request of
// its connection is counted against the server (no coordinated omission).
// It exists so that the freshness phase can serve 20,000 reads/s without the
// generator taking the CPU the change pipeline needs on a 2-core machine.
type openLoop struct {
	Addr      string // host:port
	Path      string // request path up to the id, e.g. /v1/products/
	Suffix    string // after the id, e.g. /inventory
	Rate      int    // requests per second, over all connections
	Duration  time.Duration
	MaxID     int
	Conns     int
	ServerPID int // for the CPU figure
}

// openLoopTimeout bounds one request: a request that takes longer fails
// and its connection is replaced.
const openLoopTimeout = 5 * time.Second

// run sends the load until its duration has passed or ctx ends.
func (o openLoop) run(ctx context.Context) fixedResult {
	interval := time.Duration(float64(time.Second) * float64(o.Conns) / float64(o.Rate))
	start := time.Now().Add(10 * time.Millisecond)
	end := start.Add(o.Duration)
	type connResult struct {
		lat    []time.Duration
		last   time.Time // when the last request went out
		sent   int
		ok     int
		errors []string
	}
	results := make([]connResult, o.Conns)
	svc, gen := startCPU(o.ServerPID), startCPU(os.Getpid())
	var wg sync.WaitGroup
	for c := range o.Conns {
		wg.Go(func() {
			res := &results[c]
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(c)))
			offset := interval * time.Duration(c) / time.Duration(o.Conns)
			var (
				conn net.Conn
				br   *bufio.Reader
				req  []byte
			)
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for k := 0; ctx.Err() == nil; k++ {
				at := start.Add(offset + time.Duration(k)*interval)
				if !at.Before(end) {
					return
				}
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				res.sent++
				res.last = time.Now()
				if conn == nil {
					var err error
					if conn, err = net.DialTimeout("tcp", o.Addr, openLoopTimeout); err != nil {
						res.errors = appendErr(res.errors, err)
						conn = nil
						continue
					}
					br = bufio.NewReaderSize(conn, 4096)
				}
				req = append(req[:0], "GET "...)
				req = append(req, o.Path...)
				req = strconv.AppendInt(req, int64(1+rng.IntN(o.MaxID)), 10)
				req = append(req, o.Suffix...)
				req = append(req, " HTTP/1.1\r\nHost: gintoki-bench\r\n\r\n"...)
				status, err := roundTrip(conn, br, req)
				res.lat = append(res.lat, time.Since(at))
				switch {
				case err != nil:
					res.errors = appendErr(res.errors, err)
					conn.Close()
					conn = nil
				case status/100 == 2:
					res.ok++
				default:
					res.errors = appendErr(res.errors, fmt.Errorf("status %d", status))
				}
			}
		})
	}
	wg.Wait()
	// The rate sent: over the run's duration, or longer if the generator
	// fell behind its schedule.
	elapsed := o.Duration
	for _, r := range results {
		elapsed = max(elapsed, r.last.Sub(start))
	}
	var (
		lat      []time.Duration
		sent, ok int
		errs     []string
	)
	for _, r := range results {
		lat = append(lat, r.lat...)
		sent += r.sent
		ok += r.ok
		for _, e := range r.errors {
			errs = appendErrString(errs, e)
		}
	}
	slices.Sort(lat)
	out := fixedResult{
		Target: o.Rate, Requests: uint64(sent), Sent: float64(sent) / elapsed.Seconds(),
		Throughput: float64(ok) / elapsed.Seconds(),
		P50:        percentile(lat, 0.50), P90: percentile(lat, 0.90), P99: percentile(lat, 0.99),
		ServiceCores: svc.cores(), GenCores: gen.cores(), Errors: errs, InFlight: o.Conns,
	}
	if sent > 0 {
		out.Success = float64(ok) / float64(sent)
	}
	if len(lat) > 0 {
		out.Max = lat[len(lat)-1]
	}
	return out
}

// appendErr keeps up to three distinct error messages.
func appendErr(errs []string, err error) []string { return appendErrString(errs, err.Error()) }

func appendErrString(errs []string, e string) []string {
	if len(errs) >= 3 || slices.Contains(errs, e) {
		return errs
	}
	return append(errs, e)
}

var errChunked = errors.New("response without Content-Length")

// roundTrip writes req and reads one response, discarding its body, and
// returns its status code.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (int, error) {
	if err := conn.SetDeadline(time.Now().Add(openLoopTimeout)); err != nil {
		return 0, err
	}
	if _, err := conn.Write(req); err != nil {
		return 0, err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	length := -1
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 { // the empty line ending the header
			break
		}
		if name, value, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, fmt.Errorf("malformed Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return 0, errChunked
	}
	if _, err := br.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}
