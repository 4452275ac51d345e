package loadgen

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/gintoki/gintoki/bench/probe"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// HotKeyRun is one open-loop run at a fixed rate on one product, as the
// vegeta command would make it with -max-connections=Conns
// -max-workers=Conns (its other settings at their defaults).
type HotKeyRun struct {
	URL       string // base URL, http://host:port
	Rate      int
	Duration  time.Duration
	Key       int
	Conns     int
	ServerPID int
}

// RunHotKey runs r until its duration has passed or ctx ends.
func RunHotKey(ctx context.Context, r HotKeyRun) FixedResult {
	tgt := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: r.URL + "/cache?product_id=" + strconv.Itoa(r.Key)})
	atk := vegeta.NewAttacker(vegeta.MaxConnections(r.Conns), vegeta.MaxWorkers(uint64(r.Conns)), vegeta.Timeout(5*time.Second))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	svc, gen := probe.StartCPU(r.ServerPID), probe.StartCPU(os.Getpid())
	var m vegeta.Metrics
	for res := range atk.Attack(tgt, vegeta.Rate{Freq: r.Rate, Per: time.Second}, r.Duration, "gintoki-bench tail") {
		m.Add(res)
	}
	m.Close()
	out := FixedResult{
		Target: r.Rate, Requests: m.Requests, Sent: m.Rate, Throughput: m.Throughput, Success: m.Success,
		P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99, Max: m.Latencies.Max,
		ServiceCores: svc.Cores(), GenCores: gen.Cores(), InFlight: r.Conns,
	}
	out.Errors = m.Errors[:min(len(m.Errors), 3)]
	return out
}
