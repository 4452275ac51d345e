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

// lockHealth says whether a standby could take over.
type lockHealth interface{ Healthy() bool }

// relayEndpoint serves the relay's /metrics, /healthz (the process runs)
// and /readyz on --metrics-addr. /readyz answers 200 with "leader" when
// this relay leads and its change stream is open, 200 with "standby" when
// it stands by and reaches the database (it can take over), and 503
// otherwise: a standby is healthy and ready, only not the leader, so that
// a rolling restart of a relay pair proceeds; which one leads is in the
// body and in gintoki_relay_leader. Its zero value (no --metrics-addr)
// serves nothing.
type relayEndpoint struct {
	ln  net.Listener
	srv *http.Server
}

// listenRelayEndpoint listens on addr, or returns a zero relayEndpoint if
// addr is empty.
func listenRelayEndpoint(addr string, g prometheus.Gatherer, st *relay.Stats, lock lockHealth, log *slog.Logger) (relayEndpoint, error) {
	if addr == "" {
		return relayEndpoint{}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return relayEndpoint{}, fmt.Errorf("metrics listener: %w", err)
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
	return relayEndpoint{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}}, nil
}

func (e relayEndpoint) addr() string {
	if e.ln == nil {
		return ""
	}
	return e.ln.Addr().String()
}

// close releases the listener of an endpoint that will not serve.
func (e relayEndpoint) close() {
	if e.ln != nil {
		e.ln.Close()
	}
}

// serve serves until ctx ends, then shuts the server down, giving
// requests in progress 5 s, and returns once it is down. It returns an
// error if the server fails before.
func (e relayEndpoint) serve(ctx context.Context) error {
	if e.ln == nil {
		return nil
	}
	down := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(down)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(sctx)
	})
	err := e.srv.Serve(e.ln)
	if !stop() {
		<-down // Serve returns as Shutdown begins; it is over now
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("relay metrics endpoint: %w", err)
	}
	return nil
}
