package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

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

// ServeBareHTTP serves on ln until ctx ends.
func ServeBareHTTP(ctx context.Context, ln net.Listener, bodies map[int64][]byte) error {
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
