package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/grpc"

	"github.com/gintoki/gintoki/grpcapi"
)

// shutdownServers stops the API servers gracefully: gRPC health says
// NOT_SERVING, then both servers finish the requests in progress for up to
// timeout, after which what still runs is cut.
func shutdownServers(gapi *grpcapi.Server, gsrv *grpc.Server, hsrv *http.Server, timeout time.Duration, log *slog.Logger) {
	log.Info("shutting down: draining in-flight requests", "timeout", timeout.String())
	gapi.Shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stopped := make(chan struct{})
	go func() { gsrv.GracefulStop(); close(stopped) }() // joined below, whatever happens
	if err := hsrv.Shutdown(sctx); err != nil {
		// Connections still busy (or opened and never used: net/http
		// waits 5 s for those) are closed now.
		log.Warn("HTTP connections still open at the shutdown timeout; closing them", "err", err)
		_ = hsrv.Close()
	}
	select {
	case <-stopped:
	case <-sctx.Done():
		log.Warn("gRPC calls still running at the shutdown timeout; closing them")
		gsrv.Stop()
		<-stopped
	}
}
