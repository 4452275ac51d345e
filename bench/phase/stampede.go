package phase

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
)

// stampedePhase sends, for 3 products the service has never been asked
// for, 1,000 concurrent requests each (released together over connections
// opened beforehand), and counts the database's SELECTs.
func (b *Env) stampedePhase(ctx context.Context) *report.Stampede {
	const concurrency = 1000
	rep := &report.Stampede{Concurrency: concurrency}
	b.logf("phase stampede: 3 ids × %d concurrent requests", concurrency)
	fail := func(err error) *report.Stampede { rep.Err = err; return rep }

	base := "http://" + b.addrs.HTTP
	s1, err := probe.ComSelect(ctx, b.db)
	if err != nil {
		return fail(err)
	}
	s2, err := probe.ComSelect(ctx, b.db)
	if err != nil {
		return fail(err)
	}
	rep.SelfEffect = s2 - s1
	// The nodes read the database on their own (upkeep probes once a
	// second, the inspector's comparisons); those reads are counted by the
	// nodes themselves and subtracted exactly, so the background rate
	// measured here is the other clients' only.
	p0, err := b.nodeProbes(ctx)
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	s3, err := probe.ComSelect(ctx, b.db)
	if err != nil {
		return fail(err)
	}
	p1, err := b.nodeProbes(ctx)
	if err != nil {
		return fail(err)
	}
	probes := p1 - p0
	rep.Background = max(0, (float64(s3-s2-rep.SelfEffect)-probes)/time.Since(t0).Seconds())

	client := newHTTPClient(concurrency)
	defer client.CloseIdleConnections()
	loadgen.Burst(concurrency, func(int) { _ = probe.GetOK(ctx, client, base+"/healthz") }) // open the connections
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

func (b *Env) stampede(ctx context.Context, client *http.Client, base string, id int64, n int, rep *report.Stampede) (report.StampedeID, error) {
	r := report.StampedeID{ID: id}
	m0, err := probe.Scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return r, err
	}
	p0, err := b.nodeProbes(ctx)
	if err != nil {
		return r, err
	}
	c0, err := probe.ComSelect(ctx, b.db)
	if err != nil {
		return r, err
	}
	start := time.Now()
	url := base + "/v1/products/" + strconv.FormatInt(id, 10) + "/inventory"
	var mu sync.Mutex
	loadgen.Burst(n, func(int) {
		err := probe.GetOK(ctx, client, url)
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			r.OK++
		} else if r.FirstError == "" {
			r.FirstError = err.Error()
		}
	})
	c1, err := probe.ComSelect(ctx, b.db)
	if err != nil {
		return r, err
	}
	r.Elapsed = time.Since(start)
	m1, err := probe.Scrape(ctx, b.client, base+"/metrics")
	if err != nil {
		return r, err
	}
	p1, err := b.nodeProbes(ctx)
	if err != nil {
		return r, err
	}
	r.Selects = c1 - c0
	r.Probes = p1 - p0
	r.Net = float64(r.Selects-rep.SelfEffect) - r.Probes - rep.Background*r.Elapsed.Seconds()
	l0, _ := m0.Value("gintoki_db_loads_total")
	l1, _ := m1.Value("gintoki_db_loads_total")
	w0, _ := m0.Value("gintoki_coalesced_waiters_total")
	w1, _ := m1.Value("gintoki_coalesced_waiters_total")
	r.Loads, r.Coalesced = l1-l0, w1-w0
	return r, nil
}

// nodeProbes is the count of database reads of every node the benchmark
// runs (the cached service and, when it runs, the database-only one) that
// are not fills, as the nodes count them: their upkeep probes and
// directory refreshes (warehouse loads) and the inspector's comparisons
// (product loads outside the fill path). Each is one SELECT, which the
// stampede subtracts exactly rather than at an average rate: the
// inspector's reads, a few a second, land in a burst's short window or
// not at all.
func (b *Env) nodeProbes(ctx context.Context) (float64, error) {
	urls := []string{"http://" + b.addrs.HTTP + "/metrics"}
	if b.noCache != nil {
		urls = append(urls, "http://"+b.addrs.NoCacheHTTP+"/metrics")
	}
	var n float64
	for _, u := range urls {
		m, err := probe.Scrape(ctx, b.client, u)
		if err != nil {
			return 0, err
		}
		fills, _ := m.Value("gintoki_db_loads_total")
		n += m.HistCount("gintoki_db_load_duration_seconds", "kind", "warehouses") +
			m.HistCount("gintoki_db_load_duration_seconds", "kind", "products") - fills
	}
	return n, nil
}
