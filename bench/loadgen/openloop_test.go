package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// openLoopServer answers GET /v1/products/{id}/inventory for ids 1..maxID
// with status code (200 with a body, or another code), and records the ids
// asked for.
func openLoopServer(t *testing.T, code, maxID int) (addr string, seen func() map[int]int) {
	t.Helper()
	var (
		mu  sync.Mutex
		ids = map[int]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/v1/products/")
		idText, ok2 := strings.CutSuffix(rest, "/inventory")
		id, err := strconv.Atoi(idText)
		if !ok || !ok2 || err != nil || id < 1 || id > maxID {
			http.Error(w, "bad request "+r.URL.Path, http.StatusBadRequest)
			return
		}
		mu.Lock()
		ids[id]++
		mu.Unlock()
		w.WriteHeader(code)
		w.Write([]byte(`{"product_id":` + idText + `,"warehouses":[]}`))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), func() map[int]int {
		mu.Lock()
		defer mu.Unlock()
		return ids
	}
}

func TestOpenLoopSendsTheRateAndReadsEveryAnswer(t *testing.T) {
	addr, seen := openLoopServer(t, http.StatusOK, 50)
	o := OpenLoop{Addr: addr, Path: "/v1/products/", Suffix: "/inventory", Rate: 2000,
		Duration: 500 * time.Millisecond, MaxID: 50, Conns: 4}
	res := o.Run(context.Background())
	// Each connection sends every Conns/Rate = 2 ms from its offset, within
	// the duration: 250 requests each.
	if res.Requests != 1000 {
		t.Errorf("sent %d requests, want 1000", res.Requests)
	}
	if res.Success != 1 || len(res.Errors) > 0 {
		t.Errorf("success %v, errors %v; want every request answered 200", res.Success, res.Errors)
	}
	total := 0
	for id, n := range seen() {
		if id < 1 || id > 50 {
			t.Errorf("asked for id %d, outside 1..50", id)
		}
		total += n
	}
	if total != 1000 {
		t.Errorf("server saw %d requests, want 1000", total)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Errorf("latencies p50 %v p99 %v max %v are not ordered", res.P50, res.P99, res.Max)
	}
	if res.InFlight != 4 {
		t.Errorf("InFlight = %d, want the connections, 4", res.InFlight)
	}
}

func TestOpenLoopCountsErrorAnswers(t *testing.T) {
	addr, _ := openLoopServer(t, http.StatusServiceUnavailable, 10)
	o := OpenLoop{Addr: addr, Path: "/v1/products/", Suffix: "/inventory", Rate: 1000,
		Duration: 100 * time.Millisecond, MaxID: 10, Conns: 2}
	res := o.Run(context.Background())
	if res.Requests != 100 || res.Success != 0 {
		t.Errorf("requests %d success %v, want 100 and 0", res.Requests, res.Success)
	}
	if len(res.Errors) != 1 || res.Errors[0] != "status 503" {
		t.Errorf("errors %q, want [status 503]", res.Errors)
	}
}

func TestOpenLoopSurvivesAServerThatHangsUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("cannot hijack")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	o := OpenLoop{Addr: strings.TrimPrefix(srv.URL, "http://"), Path: "/", Rate: 500,
		Duration: 100 * time.Millisecond, MaxID: 10, Conns: 2}
	res := o.Run(context.Background())
	if res.Requests != 50 || res.Success != 0 || len(res.Errors) == 0 {
		t.Errorf("requests %d success %v errors %q; want 50 requests, all failed with an error", res.Requests, res.Success, res.Errors)
	}
}

func TestOpenLoopRejectsAChunkedAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first"))
		w.(http.Flusher).Flush() // no Content-Length: chunked
		w.Write([]byte("second"))
	}))
	defer srv.Close()
	o := OpenLoop{Addr: strings.TrimPrefix(srv.URL, "http://"), Path: "/", Rate: 100,
		Duration: 100 * time.Millisecond, MaxID: 10, Conns: 1}
	res := o.Run(context.Background())
	if res.Success != 0 || len(res.Errors) != 1 || res.Errors[0] != errChunked.Error() {
		t.Errorf("success %v errors %q; want every answer refused as %q", res.Success, res.Errors, errChunked)
	}
}
