package phase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stats"
)

// pollEvery is how often a poller asks the service for a sampled UPDATE.
const pollEvery = 500 * time.Microsecond

// stockRow is a stock row in an active warehouse: an UPDATE of it shows in
// the product's answer.
type stockRow struct {
	product   int64
	warehouse int64
	code      string
}

// freshPhase checks that changes flow at all, then measures commit →
// Visible once per configured read rate.
func (b *Env) freshPhase(ctx context.Context) *report.Fresh {
	cfg := b.cfg
	rep := &report.Fresh{Conns: cfg.FreshConns}
	b.logf("phase freshness: %d UPDATEs/s over %d connections for %s, reading at %v req/s",
		cfg.FreshWrites, cfg.Writers, cfg.FreshDuration, cfg.FreshReads)
	rows, err := b.activeRows(ctx)
	if err != nil {
		rep.Err = err
		return rep
	}
	var base int64
	if err := b.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(qty_salable), 0) + 1 FROM warehouse_stock_item").Scan(&base); err != nil {
		rep.Err = fmt.Errorf("freshness: %w", err)
		return rep
	}
	client := newHTTPClient(128)
	defer client.CloseIdleConnections()

	// A first change must show up at all: otherwise the stream is not
	// flowing and every sample would time out.
	probe := rows[0]
	if _, err := b.db.ExecContext(ctx, updateSQL, base, probe.product, probe.warehouse); err != nil {
		rep.Err = fmt.Errorf("freshness probe: %w", err)
		return rep
	}
	if _, ok, err := pollVisible(ctx, client, "http://"+b.addrs.HTTP, probe, base, time.Now(), 15*time.Second); err != nil || ok == nil {
		rep.Err = fmt.Errorf("an UPDATE did not show in the service within 15s (%v): is the relay running? scripts/bench.sh starts it", err)
		return rep
	}
	var seq atomic.Int64 // the last quantity written: every UPDATE writes a larger one
	seq.Store(base)
	type load struct {
		reads int
		gen   string
	}
	var loads []load
	for _, reads := range cfg.FreshReads {
		loads = append(loads, load{reads, report.GenOpenLoop})
	}
	if cfg.FreshVegeta {
		loads = append(loads, load{cfg.FreshReads[0], report.GenVegeta})
	}
	for _, l := range loads {
		run, err := b.freshRun(ctx, client, rows, &seq, l.reads, l.gen)
		if err != nil {
			rep.Err = err
			return rep
		}
		rep.Runs = append(rep.Runs, run)
		b.logf("  %s reads %.0f/s of %d (success %s, p99 %.1f ms); %d UPDATEs (%.0f/s, %d errors): %d samples, %d timeouts, commit→visible p50 %s p99 %s max %s",
			l.gen, run.Reads.Sent, l.reads, report.Pct(run.Reads.Success), stats.MS(run.Reads.P99), run.Writes, run.WritesPS, run.WriteErrors,
			run.Samples, run.Timeouts, report.Visible(run.P50), report.Visible(run.P99), report.Visible(run.Max))
		time.Sleep(time.Second)
	}
	return rep
}

// FreshRun runs the read load with generator gen at reads req/s while writers
// UPDATE random rows at a fixed rate, each to a new, larger quantity; one
// UPDATE in (writes/sample) is followed by a poller that asks the service
// every 0.5 ms until the answer shows that quantity (or a later one of the
// same row) and records the time from the UPDATE's return.
func (b *Env) freshRun(ctx context.Context, client *http.Client, rows []stockRow, seq *atomic.Int64, reads int, gen string) (report.FreshRun, error) {
	cfg := b.cfg
	run := report.FreshRun{Duration: cfg.FreshDuration, Writers: cfg.Writers, TargetWrites: cfg.FreshWrites, Generator: gen}
	baseURL := "http://" + b.addrs.HTTP
	m0, err := probe.Scrape(ctx, b.client, baseURL+"/metrics")
	if err != nil {
		return run, err
	}
	readsDone := make(chan loadgen.FixedResult, 1)
	go func() {
		if gen == report.GenVegeta {
			readsDone <- loadgen.RunFixedRate(ctx, loadgen.FixedRun{URL: baseURL, Rate: reads, Duration: cfg.FreshDuration,
				MaxID: cfg.Products, ServerPID: b.cached.PID()})
			return
		}
		readsDone <- loadgen.OpenLoop{Addr: b.addrs.HTTP, Path: "/v1/products/", Suffix: "/inventory", Rate: reads,
			Duration: cfg.FreshDuration, MaxID: cfg.Products, Conns: cfg.FreshConns, ServerPID: b.cached.PID()}.Run(ctx)
	}()

	var (
		mu        sync.Mutex // guards lat, low, timeouts and pollErr
		lat, low  []time.Duration
		timeouts  int
		pollErr   error
		pollers   sync.WaitGroup
		writes    atomic.Int64
		werrs     atomic.Int64
		firstWErr atomic.Value
	)
	every := int64(cfg.FreshWrites / cfg.FreshSample)
	interval := time.Duration(float64(time.Second) * float64(cfg.Writers) / float64(cfg.FreshWrites))
	start := time.Now()
	end := start.Add(cfg.FreshDuration)
	var writers sync.WaitGroup
	for w := range cfg.Writers {
		writers.Go(func() {
			// Writer w owns the rows i ≡ w (mod Writers), so the UPDATEs of a
			// row are serial and its quantity only grows.
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(w)))
			own := (len(rows) - w + cfg.Writers - 1) / cfg.Writers
			offset := interval * time.Duration(w) / time.Duration(cfg.Writers)
			for k := 0; ctx.Err() == nil; k++ {
				at := start.Add(offset + time.Duration(k)*interval)
				if at.After(end) {
					return
				}
				time.Sleep(time.Until(at))
				row := rows[w+cfg.Writers*rng.IntN(own)]
				qty := seq.Add(1)
				if _, err := b.db.ExecContext(ctx, updateSQL, qty, row.product, row.warehouse); err != nil {
					werrs.Add(1)
					firstWErr.CompareAndSwap(nil, err.Error())
					continue
				}
				committed := time.Now()
				if n := writes.Add(1); n%every == 0 {
					pollers.Go(func() {
						lower, upper, err := pollVisible(ctx, client, baseURL, row, qty, committed, report.PollGiveUp)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err != nil:
							pollErr = firstErr(pollErr, err)
						case upper != nil:
							lat, low = append(lat, *upper), append(low, lower)
						default:
							timeouts++
						}
					})
				}
			}
		})
	}
	writers.Wait()
	run.WritesPS = float64(writes.Load()) / time.Since(start).Seconds()
	pollers.Wait()
	run.Reads = <-readsDone
	if err := ctx.Err(); err != nil {
		return run, err
	}
	m1, err := probe.Scrape(ctx, b.client, baseURL+"/metrics")
	if err != nil {
		return run, err
	}
	if h0, ok := m0.Histogram("gintoki_change_apply_delay_seconds"); ok {
		if h1, ok := m1.Histogram("gintoki_change_apply_delay_seconds"); ok {
			run.Delay, run.DelayOK = h1.Since(h0), true
		}
	}
	run.Writes, run.WriteErrors = writes.Load(), werrs.Load()
	if s, ok := firstWErr.Load().(string); ok {
		run.FirstWErr = s
	}
	if pollErr != nil && len(lat) == 0 {
		return run, fmt.Errorf("polling: %w", pollErr)
	}
	run.Samples, run.Timeouts = len(lat)+timeouts, timeouts
	for range timeouts {
		lat, low = append(lat, report.TimedOut), append(low, report.TimedOut)
	}
	slices.Sort(lat)
	slices.Sort(low)
	run.P50, run.P99 = stats.Percentile(lat, 0.50), stats.Percentile(lat, 0.99)
	run.Visible = lat
	run.LowP50, run.LowP99 = stats.Percentile(low, 0.50), stats.Percentile(low, 0.99)
	if len(lat) > 0 {
		run.Max = lat[len(lat)-1]
	}
	return run, nil
}

// firstErr keeps the first error.
func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

const updateSQL = "UPDATE warehouse_stock_item SET qty_salable = ? WHERE product_id = ? AND warehouse_id = ?"

// activeRows lists the stock rows of products 1..Products in active
// warehouses, in a random order.
func (b *Env) activeRows(ctx context.Context) ([]stockRow, error) {
	rs, err := b.db.QueryContext(ctx, `SELECT s.product_id, s.warehouse_id, w.code
		FROM warehouse_stock_item s JOIN warehouse w ON w.id = s.warehouse_id
		WHERE w.is_active = 1 AND s.product_id BETWEEN 1 AND ?`, b.cfg.Products)
	if err != nil {
		return nil, fmt.Errorf("list stock rows: %w", err)
	}
	defer rs.Close()
	var rows []stockRow
	for rs.Next() {
		var r stockRow
		if err := rs.Scan(&r.product, &r.warehouse, &r.code); err != nil {
			return nil, fmt.Errorf("list stock rows: %w", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list stock rows: %w", err)
	}
	if len(rows) < b.cfg.Writers {
		return nil, errors.New("list stock rows: too few rows in active warehouses")
	}
	rand.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows, nil
}

// pollVisible asks the service for row's product every pollEvery until the
// answer shows row's quantity at least qty, or giveUp has passed since
// committed. The change became visible after the last answer that did not
// show it was requested and before the first that did arrived: it returns
// both bounds, measured from committed, or a nil upper bound if it gave up.
func pollVisible(ctx context.Context, client *http.Client, baseURL string, row stockRow, qty int64, committed time.Time, giveUp time.Duration) (lower time.Duration, upper *time.Duration, err error) {
	url := baseURL + "/v1/products/" + strconv.FormatInt(row.product, 10) + "/inventory"
	next := time.Now()
	for {
		sent := time.Now()
		got, err := fetchQty(ctx, client, url, row.code)
		if err != nil {
			return 0, nil, err
		}
		now := time.Now()
		if got >= qty {
			d := now.Sub(committed)
			return lower, &d, nil
		}
		lower = max(0, sent.Sub(committed))
		if now.Sub(committed) > giveUp {
			return lower, nil, nil
		}
		next = next.Add(pollEvery)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else {
			next = now
		}
	}
}

// fetchQty returns the quantity the service shows for one warehouse of a
// product (-1 if that warehouse is not listed).
func fetchQty(ctx context.Context, client *http.Client, url, code string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var inv struct {
		Warehouses []struct {
			Code string `json:"warehouse_code"`
			Qty  int64  `json:"qty_salable"`
		} `json:"warehouses"`
	}
	if err := json.Unmarshal(body, &inv); err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	for _, w := range inv.Warehouses {
		if w.Code == code {
			return w.Qty, nil
		}
	}
	return -1, nil
}
