package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/inventory"
)

// BenchmarkGetBatch measures the use case's batch read of 100 distinct
// cached products (protobuf bodies), without a transport, against copying
// the same bodies out of a map into one buffer (what the bare server's
// batch handler does).
func BenchmarkGetBatch(b *testing.B) {
	svc, bodies, _ := warmService(b, benchProducts, formatProto)
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([][]inventory.ProductID, 1024)
	for i := range batches {
		perm := rng.Perm(benchProducts)[:100]
		for _, p := range perm {
			batches[i] = append(batches[i], inventory.ProductID(p+1))
		}
	}
	b.Run("map", func(b *testing.B) {
		var out []byte
		for i := 0; b.Loop(); i++ {
			out = out[:0]
			for _, id := range batches[i%len(batches)] {
				out = append(out, bodies[id]...)
			}
		}
	})
	b.Run("gintoki", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := svc.GetBatch(context.Background(), batches[i%len(batches)], formatProto); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHTTPBatch measures POST /v1/inventory:batchGet of 100 distinct
// cached products through the HTTP handler (parsing, use case, rendering),
// without the network.
func BenchmarkHTTPBatch(b *testing.B) {
	svc, _, log := warmService(b, benchProducts, formatJSON)
	h := httpapi.New(svc, httpapi.Config{Format: formatJSON}, log, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := make([]string, 1024)
	for i := range bodies {
		ids := make([]string, 0, 100)
		for _, p := range rng.Perm(benchProducts)[:100] {
			ids = append(ids, strconv.Itoa(p+1))
		}
		bodies[i] = `{"product_ids":[` + strings.Join(ids, ",") + `]}`
	}
	b.ReportAllocs()
	w := &discardWriter{h: http.Header{}}
	for i := 0; b.Loop(); i++ {
		clear(w.h)
		w.status = 0
		req := httptest.NewRequest("POST", "/v1/inventory:batchGet", strings.NewReader(bodies[i%len(bodies)]))
		h.ServeHTTP(w, req)
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
