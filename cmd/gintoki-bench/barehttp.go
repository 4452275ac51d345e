package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gintoki/gintoki/internal/flagenv"
)

// runBareHTTP is `gintoki-bench bare-http`: the HTTP baseline. It serves
// the pre-encoded JSON bodies the orchestrator fetched from the service,
// from a Go map, on the service's routes, with nothing else on the path
// (no request id, no metrics, no cache): what any Go HTTP server must pay.
func runBareHTTP(ctx context.Context, args []string, stderr io.Writer) error {
	env := benchEnv(flagenv.Map(nil)) // the bare servers take flags only
	fs := newFlagSet("bare-http", env, stderr)
	addr := fs.String("addr", "127.0.0.1:18082", "listen address")
	path := fs.String("bodies", "", "bodies file written by the orchestrator")
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	bodies, err := readBodies(*path)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("bare-http: %w", err)
	}
	return serveBareHTTP(ctx, ln, bodies)
}

// bareHTTPHandler writes bodies[id] for GET /v1/products/{id}/inventory and
// GET /cache?product_id=id, 404 for unknown ids.
func bareHTTPHandler(bodies map[int64][]byte) http.Handler {
	contentType := []string{"application/json"}
	write := func(w http.ResponseWriter, idText string) {
		id, err := strconv.ParseInt(idText, 10, 64)
		body, ok := bodies[id]
		if err != nil || !ok {
			http.NotFound(w, nil)
			return
		}
		w.Header()["Content-Type"] = contentType
		_, _ = w.Write(body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products/{product_id}/inventory", func(w http.ResponseWriter, r *http.Request) {
		write(w, r.PathValue("product_id"))
	})
	mux.HandleFunc("GET /cache", func(w http.ResponseWriter, r *http.Request) {
		write(w, r.URL.Query().Get("product_id"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ready\n")
	})
	return mux
}

// serveBareHTTP serves on ln until ctx ends.
func serveBareHTTP(ctx context.Context, ln net.Listener, bodies map[int64][]byte) error {
	return serveUntilDone(ctx, "bare-http", ln, bareHTTPHandler(bodies))
}

// serveUntilDone serves h on ln until ctx ends, then shuts the server down
// (the baselines' servers: no limits beyond a header timeout).
func serveUntilDone(ctx context.Context, name string, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	stopped := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := <-stopped; err != nil {
		return fmt.Errorf("%s shutdown: %w", name, err)
	}
	return nil
}
