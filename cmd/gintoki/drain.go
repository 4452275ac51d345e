package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// errDraining is what /readyz reports (in the log) while the node drains.
var errDraining = errors.New("draining: the node is stopping")

// drain takes a stopping node out of its load balancers before it stops
// serving. On SIGINT/SIGTERM the node reports not ready at once (/readyz
// 503, gRPC health NOT_SERVING) and every HTTP response carries
// "Connection: close": clients reconnect, through an L4 proxy, to another
// node, each after its next answer. Halfway through the delay keep-alives
// are turned off (http.Server.SetKeepAlivesEnabled(false)), which also
// closes the connections still idle. Closing them only then spares the
// clients that send requests throughout a race: a request sent on an idle
// connection just as the server closes it fails (or must be resent), while
// an answer with "Connection: close" never loses one. The node keeps
// serving normally — change consumer included, so its answers stay fresh —
// for the whole delay, which should cover the time the balancers take to
// notice (HAProxy: inter × fall), and only then shuts down.
type drain struct {
	delay    time.Duration
	draining atomic.Bool
	// report passes readiness on (gintoki_ready and gRPC health); set
	// before the node serves, read by begin and by the readiness watch.
	report func(bool)
}

// ready wraps the freshness policy's readiness check: a draining node is
// not ready, whatever the policy says.
func (d *drain) ready(check func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if d.draining.Load() {
			return errDraining
		}
		return check(ctx)
	}
}

// reporter wraps the readiness watch's callback so that a periodic
// "ready" cannot flip gRPC health back to SERVING during the drain. Call
// it before the node serves.
func (d *drain) reporter(report func(bool)) func(bool) {
	d.report = report
	return func(ready bool) {
		report(ready && !d.draining.Load())
		// A drain that began while this report was on its way: whatever
		// the order of the two reports, the last one says not ready.
		if ready && d.draining.Load() {
			report(false)
		}
	}
}

// run waits for stop (the signal), drains for the delay unless done ends
// first (the node failed), then returns so that the caller shuts down.
func (d *drain) run(stop, done <-chan struct{}, hsrv *http.Server, log *slog.Logger) {
	select {
	case <-stop:
	case <-done:
		return
	}
	if d.delay <= 0 {
		return
	}
	log.Info("draining: not ready, answering with Connection: close, still serving", "drain_delay", d.delay.String())
	d.draining.Store(true)
	if d.report != nil {
		d.report(false)
	}
	half := time.NewTimer(d.delay / 2)
	defer half.Stop()
	select {
	case <-half.C:
	case <-done:
		return
	}
	hsrv.SetKeepAlivesEnabled(false)
	rest := time.NewTimer(d.delay - d.delay/2)
	defer rest.Stop()
	select {
	case <-rest.C:
	case <-done:
	}
}

// closing wraps the HTTP handler: while the node drains, every response
// says "Connection: close", and net/http closes the connection after it.
func (d *drain) closing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}
