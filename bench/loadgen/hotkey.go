package loadgen

import (
	"context"
	"strconv"
	"time"

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
	return attack(ctx, atk, tgt, attackRun{Rate: r.Rate, Duration: r.Duration, Name: "gintoki-bench tail", ServerPID: r.ServerPID, InFlight: r.Conns})
}
