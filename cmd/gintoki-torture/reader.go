package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// An observation is one answer of one node: what it showed for each
// product asked, when the request was sent and the answer received, and
// whether it was marked stale.
type observation struct {
	Node       int
	Inc        int32 // the node's incarnation when the request was sent
	Batch      bool
	Stale      bool
	Sent, Recv time.Duration
	Products   []productView
}

// productView is what an answer showed for one product.
type productView struct {
	P     int64
	Found bool // false: 404, or listed in not_found
	Rows  []rowView
}

// rowView is one warehouse line: warehouse id and code suffix, and qty.
type rowView struct {
	W   int
	K   int64 // the warehouse code's sequence number
	Qty int64
}

// readStats counts answers that are not observations.
type readStats struct {
	mu       sync.Mutex     // protects the fields below
	errors   map[string]int // by node and kind: "node1 503", "node0 transport"
	parseErr []string       // malformed answers (violations)
}

func (s *readStats) add(key string) {
	s.mu.Lock()
	s.errors[key]++
	s.mu.Unlock()
}

// reader reads through one node until ctx ends: single reads of hot keys
// and of any product, and batches mixing hot keys, other products and ids
// that never exist.
type reader struct {
	n        *node
	rng      *rand.Rand
	clock    func() time.Duration
	products int
	hot      int
	pause    time.Duration // between two reads of this reader
	stats    *readStats
	out      []observation // owned by run until it returns
}

func (r *reader) run(ctx context.Context) {
	for ctx.Err() == nil {
		var ids []int64
		batch := r.rng.IntN(10) < 3
		switch {
		case batch:
			for range 2 + r.rng.IntN(19) {
				ids = append(ids, r.product())
			}
		default:
			ids = []int64{r.product()}
		}
		if o, ok := r.read(ctx, ids, batch); ok {
			r.out = append(r.out, o)
		}
		if r.pause > 0 {
			time.Sleep(r.pause)
		}
	}
}

// product picks an id: hot keys most often, now and then an id no write
// ever creates.
func (r *reader) product() int64 {
	switch x := r.rng.IntN(100); {
	case x < 45:
		return 1 + r.rng.Int64N(int64(r.hot))
	case x < 48:
		return int64(r.products) + 1 + r.rng.Int64N(5)
	default:
		return 1 + r.rng.Int64N(int64(r.products))
	}
}

func (r *reader) read(ctx context.Context, ids []int64, batch bool) (observation, bool) {
	var req *http.Request
	var err error
	if batch {
		body, _ := json.Marshal(map[string][]int64{"product_ids": ids})
		req, err = http.NewRequestWithContext(ctx, "POST", r.n.http+"/v1/inventory:batchGet", bytes.NewReader(body))
	} else {
		req, err = http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/v1/products/%d/inventory", r.n.http, ids[0]), nil)
	}
	if err != nil {
		r.stats.add(fmt.Sprintf("node%d request: %v", r.n.i, err))
		return observation{}, false
	}
	o := observation{Node: r.n.i, Inc: r.n.incarnate.Load(), Batch: batch, Sent: r.clock()}
	resp, err := r.n.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			r.stats.add(fmt.Sprintf("node%d transport error", r.n.i))
		}
		return o, false
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.Recv = r.clock()
	if err != nil {
		r.stats.add(fmt.Sprintf("node%d transport error", r.n.i))
		return o, false
	}
	if r.n.incarnate.Load() != o.Inc {
		return o, false // restarted meanwhile: which incarnation answered is unknown
	}
	o.Stale = resp.Header.Get("X-Gintoki-Stale") == "true"
	switch {
	case resp.StatusCode == http.StatusNotFound && !batch:
		o.Products = []productView{{P: ids[0]}}
	case resp.StatusCode != http.StatusOK:
		r.stats.add(fmt.Sprintf("node%d HTTP %d", r.n.i, resp.StatusCode))
		return o, false
	default:
		if o.Products, err = parseAnswer(b, batch); err != nil {
			r.stats.mu.Lock()
			r.stats.parseErr = append(r.stats.parseErr, fmt.Sprintf("node%d: %v: %.300s", r.n.i, err, b))
			r.stats.mu.Unlock()
			return o, false
		}
	}
	return o, true
}

type productJSON struct {
	ProductID  int64 `json:"product_id"`
	Warehouses []struct {
		Code string `json:"warehouse_code"`
		Qty  int64  `json:"qty_salable"`
	} `json:"warehouses"`
}

// parseAnswer decodes a single or a batch answer.
func parseAnswer(b []byte, batch bool) ([]productView, error) {
	var ps []productJSON
	var notFound []int64
	if batch {
		var v struct {
			Products []productJSON `json:"products"`
			NotFound []int64       `json:"not_found"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("decode batch answer: %w", err)
		}
		ps, notFound = v.Products, v.NotFound
	} else {
		var v productJSON
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("decode answer: %w", err)
		}
		ps = []productJSON{v}
	}
	out := make([]productView, 0, len(ps)+len(notFound))
	for _, p := range ps {
		pv := productView{P: p.ProductID, Found: true}
		for _, w := range p.Warehouses {
			id, k, err := parseWarehouseCode(w.Code)
			if err != nil {
				return nil, err
			}
			pv.Rows = append(pv.Rows, rowView{W: id, K: k, Qty: w.Qty})
		}
		out = append(out, pv)
	}
	for _, id := range notFound {
		out = append(out, productView{P: id})
	}
	return out, nil
}
