package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/inventory"
)

// adminServer serves /debug/pprof/ and /debug/cached-ids on --admin-addr,
// apart from the API's public address. Its zero value (no --admin-addr)
// serves nothing.
type adminServer struct {
	ln  net.Listener
	srv *http.Server
}

// listenAdmin listens on addr, or returns a zero adminServer if addr is
// empty. cachedIDs is the cache's key list, for /debug/cached-ids (nil:
// no such route, as on the relay).
func listenAdmin(addr string, cachedIDs iter.Seq[inventory.ProductID], log *slog.Logger) (adminServer, error) {
	if addr == "" {
		return adminServer{}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return adminServer{}, fmt.Errorf("listen admin: %w", err)
	}
	// No write timeout: a CPU profile or a trace streams for as long as
	// asked.
	return adminServer{ln: ln, srv: &http.Server{
		Handler: httpapi.AdminHandler(cachedIDs), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}, nil
}

func (a adminServer) addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// close releases the listener of a server that will not serve.
func (a adminServer) close() {
	if a.ln != nil {
		a.ln.Close()
	}
}

// serve serves until ctx ends, then closes the server: profiles in
// progress are cut, they are no one's traffic.
func (a adminServer) serve(ctx context.Context) error {
	if a.ln == nil {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { _ = a.srv.Close() })
	defer stop()
	if err := a.srv.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin server: %w", err)
	}
	return nil
}

// serveHTTP serves the API's HTTP server on ln, over TLS if it has a TLS
// configuration (HTTP/2 is offered then, as by ListenAndServeTLS).
func serveHTTP(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}
