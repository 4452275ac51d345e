package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// stampedeReport is phase 7: concurrent misses of one key must cost one
// database query.
type stampedeReport struct {
	Err         error
	Concurrency int
	SelfEffect  int64   // Com_select added by reading it once
	Background  float64 // Com_select per second with no load, from clients other than the node
	IDs         []stampedeID
}

// stampedeID is what a stampede on one product cost.
type stampedeID struct {
	ID         int64
	Selects    int64   // Com_select after − before
	Probes     float64 // the node's own warehouse probes meanwhile (its upkeep), counted by the node
	Net        float64 // Selects − SelfEffect − Probes − Background × Elapsed
	Loads      float64 // gintoki_db_loads_total after − before
	Coalesced  float64 // gintoki_coalesced_waiters_total after − before
	OK         int     // 200 responses
	Elapsed    time.Duration
	FirstError string
}

// queries is the database's count of queries for this product, rounded.
func (s stampedeID) queries() int64 { return int64(math.Round(s.Net)) }

// comSelect reads the server's SELECT count.
func comSelect(ctx context.Context, db *sql.DB) (int64, error) {
	var name string
	var v int64
	if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Com_select'").Scan(&name, &v); err != nil {
		return 0, fmt.Errorf("read Com_select: %w", err)
	}
	return v, nil
}

// stampedePhase sends, for 3 products the service has never been asked
// for, 1,000 concurrent requests each (released together over connections
// opened beforehand), and counts the database's SELECTs.
func (b *bench) stampedePhase(ctx context.Context) *stampedeReport {
	const concurrency = 1000
	rep := &stampedeReport{Concurrency: concurrency}
	b.logf("phase stampede: 3 ids × %d concurrent requests", concurrency)
	fail := func(err error) *stampedeReport { rep.Err = err; return rep }

	base := "http://" + b.addrs.HTTP
	s1, err := comSelect(ctx, b.db)
	if err != nil {
		return fail(err)
	}
	s2, err := comSelect(ctx, b.db)
	if err != nil {
		return fail(err)
	}
	rep.SelfEffect = s2 - s1
	// The node probes the database once a second (its upkeep); those are
	// counted by the node itself and subtracted exactly, so the background
	// rate measured here is the other clients' only.
	m0, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	s3, err := comSelect(ctx, b.db)
	if err != nil {
		return fail(err)
	}
	m1, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return fail(err)
	}
	probes := nodeProbes(m1) - nodeProbes(m0)
	rep.Background = max(0, (float64(s3-s2-rep.SelfEffect)-probes)/time.Since(t0).Seconds())

	client := newHTTPClient(concurrency)
	defer client.CloseIdleConnections()
	fanOut(concurrency, func(int) { _ = get(ctx, client, base+"/healthz") }) // open the connections
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seen := map[int64]bool{}
	for len(rep.IDs) < 3 {
		id := 1 + rng.Int64N(int64(b.cfg.Products))
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := b.stampede(ctx, client, base, id, concurrency, rep)
		if err != nil {
			return fail(err)
		}
		rep.IDs = append(rep.IDs, r)
		b.logf("  product %d: %d concurrent requests (%d OK) → %d SELECTs counted (net %.1f), %v loads, %v coalesced waiters",
			id, concurrency, r.OK, r.Selects, r.Net, r.Loads, r.Coalesced)
	}
	return rep
}

func (b *bench) stampede(ctx context.Context, client *http.Client, base string, id int64, n int, rep *stampedeReport) (stampedeID, error) {
	r := stampedeID{ID: id}
	m0, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return r, err
	}
	c0, err := comSelect(ctx, b.db)
	if err != nil {
		return r, err
	}
	start := time.Now()
	url := base + "/v1/products/" + strconv.FormatInt(id, 10) + "/inventory"
	var mu sync.Mutex
	fanOut(n, func(int) {
		err := get(ctx, client, url)
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			r.OK++
		} else if r.FirstError == "" {
			r.FirstError = err.Error()
		}
	})
	c1, err := comSelect(ctx, b.db)
	if err != nil {
		return r, err
	}
	r.Elapsed = time.Since(start)
	m1, err := scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return r, err
	}
	r.Selects = c1 - c0
	r.Probes = nodeProbes(m1) - nodeProbes(m0)
	r.Net = float64(r.Selects-rep.SelfEffect) - r.Probes - rep.Background*r.Elapsed.Seconds()
	l0, _ := m0.value("gintoki_db_loads_total")
	l1, _ := m1.value("gintoki_db_loads_total")
	w0, _ := m0.value("gintoki_coalesced_waiters_total")
	w1, _ := m1.value("gintoki_coalesced_waiters_total")
	r.Loads, r.Coalesced = l1-l0, w1-w0
	return r, nil
}

// nodeProbes is the node's count of its warehouse loads: the upkeep probe
// and directory refreshes, which are not fills.
func nodeProbes(m metrics) float64 {
	return m.histCount("gintoki_db_load_duration_seconds", "kind", "warehouses")
}

// fanOut runs f(0..n-1) in n goroutines released at the same moment, and
// waits for them.
func fanOut(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-release
			f(i)
		}()
	}
	ready.Wait()
	close(release)
	done.Wait()
}

// get fetches url and fails unless the answer is 200.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
