package loadgen

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

	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/stats"
)

// OpenLoop is a fixed-rate HTTP/1.1 load much cheaper to generate than
// vegeta's: Conns keep-alive connections, each sending GET <Path><random
// id><Suffix> on its own schedule (Rate/Conns requests per second,
// staggered), one request at a time, over a raw socket with a minimal
// response parser. Latency runs from the request's scheduled time, not
// from when it went out, so a slow answer that delays the next request of
// its connection is counted against the server (no coordinated omission).
// It exists so that the freshness phase can serve 20,000 reads/s without the
// generator taking the CPU the change pipeline needs on a 2-core machine.
//
// Like any HTTP/1.1 client it closes a connection whose response says
// "Connection: close", and it resends a request once, on a new
// connection, when a kept-alive connection fails before any byte of the
// response: the server may close an idle connection just as a request
// goes out (RFC 9112, section 9.3.1, allows the retry for idempotent
// requests; net/http's Transport does the same). Such retries are counted.
type OpenLoop struct {
	Addr      string // host:port
	Path      string // request path up to the id, e.g. /v1/products/
	Suffix    string // after the id, e.g. /inventory
	Rate      int    // requests per second, over all connections
	Duration  time.Duration
	MaxID     int
	Conns     int
	ServerPID int // for the CPU figure
	// Timeline, when not nil, receives every request's schedule, latency
	// and outcome.
	Timeline *Timeline
}

// openLoopTimeout bounds one request: a request that takes longer fails
// and its connection is replaced.
const openLoopTimeout = 5 * time.Second

// Run sends the load until its duration has passed or ctx ends.
func (o OpenLoop) Run(ctx context.Context) FixedResult {
	interval := time.Duration(float64(time.Second) * float64(o.Conns) / float64(o.Rate))
	start := time.Now().Add(10 * time.Millisecond)
	end := start.Add(o.Duration)
	type connResult struct {
		lat    []time.Duration
		last   time.Time // when the last request went out
		sent   int
		ok     int
		retry  int
		errors []string
	}
	results := make([]connResult, o.Conns)
	if o.Timeline != nil {
		o.Timeline.begin(start, o.Conns)
	}
	svc, gen := probe.StartCPU(o.ServerPID), probe.StartCPU(os.Getpid())
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
				used int // requests answered on conn
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
				req = append(req[:0], "GET "...)
				req = append(req, o.Path...)
				req = strconv.AppendInt(req, int64(1+rng.IntN(o.MaxID)), 10)
				req = append(req, o.Suffix...)
				req = append(req, " HTTP/1.1\r\nHost: gintoki-bench\r\n\r\n"...)
				var (
					status    int
					keepAlive bool
					err       error
					retried   bool
				)
				for {
					if conn == nil {
						if conn, err = net.DialTimeout("tcp", o.Addr, openLoopTimeout); err != nil {
							conn = nil
							break
						}
						br = bufio.NewReaderSize(conn, 4096)
						used = 0
					}
					status, keepAlive, err = roundTrip(conn, br, req)
					if err != nil || !keepAlive {
						conn.Close()
						conn = nil
					}
					if err == nil || retried || used == 0 || !errors.Is(err, errNoResponse) {
						break
					}
					retried = true
					res.retry++
				}
				used++
				lat := time.Since(at)
				res.lat = append(res.lat, lat)
				ok := err == nil && status/100 == 2
				switch {
				case err != nil:
					res.errors = appendErr(res.errors, err)
				case ok:
					res.ok++
				default:
					res.errors = appendErr(res.errors, fmt.Errorf("status %d", status))
				}
				if o.Timeline != nil {
					o.Timeline.record(c, at, lat, ok, retried)
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
		lat             []time.Duration
		sent, ok, retry int
		errs            []string
	)
	for _, r := range results {
		lat = append(lat, r.lat...)
		sent += r.sent
		ok += r.ok
		retry += r.retry
		for _, e := range r.errors {
			errs = appendErrString(errs, e)
		}
	}
	slices.Sort(lat)
	out := FixedResult{
		Target: o.Rate, Requests: uint64(sent), Sent: float64(sent) / elapsed.Seconds(),
		Throughput: float64(ok) / elapsed.Seconds(),
		P50:        stats.Percentile(lat, 0.50), P90: stats.Percentile(lat, 0.90), P99: stats.Percentile(lat, 0.99),
		ServiceCores: svc.Cores(), GenCores: gen.Cores(), Errors: errs, InFlight: o.Conns, Retried: retry,
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

var (
	errChunked = errors.New("response without Content-Length")
	// errNoResponse wraps a failure before any byte of the response: the
	// request may be sent again on a new connection.
	errNoResponse = errors.New("connection failed before the response")
)

// roundTrip writes req and reads one response, discarding its body, and
// returns its status code and whether the connection may carry another
// request (no "Connection: close").
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (status int, keepAlive bool, err error) {
	if err := conn.SetDeadline(time.Now().Add(openLoopTimeout)); err != nil {
		return 0, false, err
	}
	if _, err := conn.Write(req); err != nil {
		return 0, false, fmt.Errorf("%w: %w", errNoResponse, err)
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		var ne net.Error
		if len(line) == 0 && !(errors.As(err, &ne) && ne.Timeout()) {
			return 0, false, fmt.Errorf("%w: %w", errNoResponse, err)
		}
		return 0, false, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	length := -1
	keepAlive = true
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(h) <= 2 { // the empty line ending the header
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		switch {
		case !ok:
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(bytes.TrimSpace(value), []byte("close")):
			keepAlive = false
		}
	}
	if length < 0 {
		return 0, false, errChunked
	}
	if _, err := br.Discard(length); err != nil {
		return 0, false, err
	}
	return status, keepAlive, nil
}
