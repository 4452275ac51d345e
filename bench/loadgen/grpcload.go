package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/stats"
	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
)

// GRPCRun is one closed-loop gRPC run: Callers goroutines spread over
// Conns connections, each calling again as soon as its call returns,
// through the generated client (responses are decoded, as a real client
// would).
type GRPCRun struct {
	Addr     string
	Conns    int
	Callers  int
	Duration time.Duration
	MaxID    int
	Batch    int // ids per BatchGetInventory call; 0 calls GetInventory
}

// GRPCResult is what one gRPC run measured.
type GRPCResult struct {
	Calls      int64
	Errors     int64
	FirstErr   string
	RPS        float64 // successful calls per second
	ProductsPS float64 // products returned per second
	P50, P99   time.Duration
	GenCores   float64 // CPU this process (the generator) used, in cores
}

// RunGRPC runs r and measures every call's latency.
func RunGRPC(ctx context.Context, r GRPCRun) (GRPCResult, error) {
	conns := make([]*grpc.ClientConn, r.Conns)
	for i := range conns {
		cc, err := grpc.NewClient(r.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return GRPCResult{}, fmt.Errorf("gRPC load: %w", err)
		}
		defer cc.Close()
		conns[i] = cc
		// Connect before the clock starts.
		if _, err := inventoryv1.NewInventoryServiceClient(cc).GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: 1}); err != nil {
			return GRPCResult{}, fmt.Errorf("gRPC load: first call to %s: %w", r.Addr, err)
		}
	}
	type callerStats struct {
		lat      []time.Duration
		products int64
		errors   int64
		firstErr error
	}
	byCaller := make([]callerStats, r.Callers)
	gen := probe.StartCPU(os.Getpid())
	start := time.Now()
	deadline := start.Add(r.Duration)
	var wg sync.WaitGroup
	for i := range r.Callers {
		wg.Go(func() {
			st := &byCaller[i]
			st.lat = make([]time.Duration, 0, 1<<14)
			client := inventoryv1.NewInventoryServiceClient(conns[i%len(conns)])
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))
			ids := make([]int64, 0, r.Batch)
			seen := make(map[int64]struct{}, r.Batch)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				var n int
				var err error
				if r.Batch == 0 {
					_, err = client.GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: 1 + rng.Int64N(int64(r.MaxID))})
					n = 1
				} else {
					ids = distinctIDs(rng, ids[:0], seen, r.Batch, r.MaxID)
					var resp *inventoryv1.BatchGetInventoryResponse
					resp, err = client.BatchGetInventory(ctx, &inventoryv1.BatchGetInventoryRequest{ProductIds: ids})
					n = len(resp.GetProducts())
				}
				if err != nil {
					st.errors++
					if st.firstErr == nil {
						st.firstErr = err
					}
					continue
				}
				st.lat = append(st.lat, time.Since(t0))
				st.products += int64(n)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return GRPCResult{}, err
	}
	res := GRPCResult{GenCores: gen.Cores()}
	var all []time.Duration
	var products int64
	for _, st := range byCaller {
		all = append(all, st.lat...)
		products += st.products
		res.Errors += st.errors
		if st.firstErr != nil && res.FirstErr == "" {
			res.FirstErr = st.firstErr.Error()
		}
	}
	slices.Sort(all)
	res.Calls = int64(len(all))
	res.RPS = float64(len(all)) / elapsed.Seconds()
	res.ProductsPS = float64(products) / elapsed.Seconds()
	res.P50, res.P99 = stats.Percentile(all, 0.50), stats.Percentile(all, 0.99)
	return res, nil
}

// distinctIDs appends n distinct random ids in 1..maxID to ids (n ≤ maxID),
// so that the service (which answers duplicates once) and the bare server
// return the same bytes.
func distinctIDs(rng *rand.Rand, ids []int64, seen map[int64]struct{}, n, maxID int) []int64 {
	clear(seen)
	for len(ids) < n {
		id := 1 + rng.Int64N(int64(maxID))
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		ids = append(ids, id)
	}
	return ids
}
