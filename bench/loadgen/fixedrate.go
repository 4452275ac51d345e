package loadgen

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gintoki/gintoki/bench/probe"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// FixedRun is one open-loop run at a fixed request rate, with vegeta's
// library, on GET /cache?product_id=<random id in 1..MaxID>.
type FixedRun struct {
	URL       string // base URL, http://host:port
	Rate      int    // requests per second
	Duration  time.Duration
	MaxID     int
	ServerPID int // for the CPU figure
}

// FixedResult is what one fixed-rate run measured.
type FixedResult struct {
	Target       int
	Requests     uint64
	Sent         float64 // requests per second actually sent
	Throughput   float64 // successful responses per second
	Success      float64 // share of 2xx/3xx responses
	P50, P90     time.Duration
	P99, Max     time.Duration
	Errors       []string // distinct errors, at most a few
	ServiceCores float64
	GenCores     float64 // CPU of this process (the generator), in cores
	InFlight     int     // the most requests the generator keeps waiting
	Retried      int     // requests sent again after a kept-alive connection closed under them (OpenLoop)
}

// FixedMaxInFlight bounds the attacker's workers and connections. vegeta
// starts a worker (and so a connection) whenever all are busy; unbounded,
// a hiccup on a saturated machine snowballs into thousands of connections
// and a generator that measures mostly itself.
const FixedMaxInFlight = 512

// keptUp reports whether at least 98% of the target rate was sent.
func (r FixedResult) keptUp() bool { return r.Sent >= 0.98*float64(r.Target) }

// Limit names what held the rate below the target ("" if it was reached):
// the generator when it used more CPU than the service (it could not pace
// the requests), else the service (InFlight requests were waiting for it).
func (r FixedResult) Limit() string {
	switch {
	case r.keptUp():
		return ""
	case r.GenCores >= r.ServiceCores:
		return "generator"
	}
	return "service"
}

// RunFixedRate runs r until its duration has passed or ctx ends.
func RunFixedRate(ctx context.Context, r FixedRun) FixedResult {
	base := r.URL + "/cache?product_id="
	target := func(t *vegeta.Target) error {
		t.Method = "GET"
		t.URL = base + strconv.Itoa(1+rand.IntN(r.MaxID))
		return nil
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: FixedMaxInFlight,
		MaxConnsPerHost:     FixedMaxInFlight,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	atk := vegeta.NewAttacker(vegeta.Client(&http.Client{Transport: tr, Timeout: 5 * time.Second}),
		vegeta.Workers(32), vegeta.MaxWorkers(FixedMaxInFlight))
	return attack(ctx, atk, target, attackRun{Rate: r.Rate, Duration: r.Duration, Name: "gintoki-bench", ServerPID: r.ServerPID, InFlight: FixedMaxInFlight})
}

// attackRun is what attack needs besides the attacker and its targets.
type attackRun struct {
	Rate      int
	Duration  time.Duration
	Name      string // of the attack, in vegeta's results
	ServerPID int    // for the CPU figure
	InFlight  int    // the attacker's bound on requests in flight, for the report
}

// attack runs atk on tgt at r.Rate until r.Duration has passed or ctx
// ends, and summarises vegeta's metrics with the CPU of the server and of
// this process.
func attack(ctx context.Context, atk *vegeta.Attacker, tgt vegeta.Targeter, r attackRun) FixedResult {
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	svc, gen := probe.StartCPU(r.ServerPID), probe.StartCPU(os.Getpid())
	var m vegeta.Metrics
	for res := range atk.Attack(tgt, vegeta.Rate{Freq: r.Rate, Per: time.Second}, r.Duration, r.Name) {
		m.Add(res)
	}
	m.Close()
	out := FixedResult{
		Target: r.Rate, Requests: m.Requests, Sent: m.Rate, Throughput: m.Throughput, Success: m.Success,
		P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99, Max: m.Latencies.Max,
		ServiceCores: svc.Cores(), GenCores: gen.Cores(), InFlight: r.InFlight,
	}
	out.Errors = m.Errors[:min(len(m.Errors), 3)]
	return out
}
