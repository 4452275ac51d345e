package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gintoki/gintoki/relay"
)

// registerRelayStats exports the relay's counters, read at scrape time.
func registerRelayStats(reg prometheus.Registerer, st *relay.Stats) {
	counterFunc(reg, "gintoki_relay_transactions_total", "Transactions read from the change stream that had row changes to publish.", load(&st.Transactions))
	counterFunc(reg, "gintoki_relay_changes_total", "Row changes read from those transactions.", load(&st.Changes))
	counterFunc(reg, "gintoki_relay_messages_published_total", "Messages handed to the broker client.", load(&st.Published))
	counterFunc(reg, "gintoki_relay_messages_acked_total", "Messages the broker acknowledged.", load(&st.Acked))
	gaugeFunc(reg, "gintoki_relay_messages_in_flight", "Messages published and not yet acknowledged.", func() float64 {
		return float64(st.Published.Load()) - float64(st.Acked.Load())
	})
	counterFunc(reg, "gintoki_relay_checkpoint_saves_total", "Stream positions saved to the checkpoint.", load(&st.CheckpointSaves))
	counterFunc(reg, "gintoki_relay_checkpoint_errors_total", "Failed checkpoint saves (retried).", load(&st.CheckpointErrors))
	counterFunc(reg, "gintoki_relay_heartbeats_total", "Heartbeat messages the broker acknowledged.", load(&st.Heartbeats))
	gaugeFunc(reg, "gintoki_relay_streaming", "1 while the change stream is open, else 0.", func() float64 {
		return boolGauge(st.Streaming())
	})
	gaugeFunc(reg, "gintoki_relay_leader", "1 while this relay holds the leader lock and so is the one that publishes, 0 while it stands by. Across a relay pair the sum should be 1.", func() float64 {
		return boolGauge(st.Leader())
	})
	counterFunc(reg, "gintoki_relay_leader_terms_total", "Times this relay became the leader.", load(&st.Terms))
	counterFunc(reg, "gintoki_relay_leader_lost_total", "Times this relay lost the leader lock while relaying (and stopped publishing).", load(&st.LeasesLost))
	gaugeFunc(reg, "gintoki_relay_caught_up_timestamp_seconds", "Time up to which every transaction committed in the database has been read and handed to the broker client (0: not yet); time() minus it is the relay's lag.", func() float64 {
		t := st.CaughtUp()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	})
	gaugeFunc(reg, "gintoki_relay_last_commit_timestamp_seconds", "Commit time of the last transaction read with row changes to publish (0: none yet).", func() float64 {
		t := st.LastCommit()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	})
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// lockHealth says whether a standby could take over.
type lockHealth interface{ Healthy() bool }

// serveRelayMetrics serves /metrics, /healthz (the process runs) and
// /readyz on addr until stop is called. /readyz answers 200 with "leader"
// when this relay leads and its change stream is open, 200 with "standby"
// when it stands by and reaches the database (it can take over), and 503
// otherwise: a standby is healthy and ready, only not the leader, so that a
// rolling restart of a relay pair proceeds; which one leads is in the body
// and in gintoki_relay_leader.
func serveRelayMetrics(addr string, g prometheus.Gatherer, st *relay.Stats, lock lockHealth, log *slog.Logger) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case st.Leader() && st.Streaming():
			io.WriteString(w, "leader\n")
		case st.Leader():
			http.Error(w, "leader, change stream not open", http.StatusServiceUnavailable)
		case lock.Healthy():
			io.WriteString(w, "standby\n")
		default:
			http.Error(w, "standby, cannot reach the database to take over", http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("relay metrics endpoint stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, ln.Addr().String(), nil
}
