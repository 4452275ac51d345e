package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/mysql"
	"github.com/gintoki/gintoki/promexport"
	"github.com/gintoki/gintoki/tlsconfig"
)

// servingNode is a built `gintoki serve` node: its parts, wired, and its
// listeners, bound. run runs it.
type servingNode struct {
	cfg       serveConfig
	log       *slog.Logger
	store     *mysql.Store
	svc       *app.Service
	consumer  *kafka.Consumer // nil without a change stream
	warm      *warmer
	fresh     *app.Freshness
	inspector *app.Inspector      // nil when off
	tlsr      *tlsconfig.Reloader // nil without TLS
	ready     *promexport.Readiness
	drain     *drain
	gapi      *grpcapi.Server
	gsrv      *grpc.Server
	hsrv      *http.Server
	httpLn    net.Listener
	grpcLn    net.Listener
	admin     adminServer
}

// close releases what newServingNode built: listeners that were never
// served, the service's loads, the database pool. Call it after run, or
// instead of it.
func (n *servingNode) close() {
	for _, ln := range []net.Listener{n.httpLn, n.grpcLn} {
		if ln != nil {
			ln.Close() // already closed by their servers after run
		}
	}
	n.admin.close()
	if n.svc != nil {
		n.svc.Close()
	}
	if n.store != nil {
		n.store.Close()
	}
}

// run runs every part of the node under one errgroup until the signal's
// drain is over (ctx, then --drain-delay) or a part fails, then shuts the
// servers down gracefully. It returns the first part's error.
func (n *servingNode) run(ctx context.Context) error {
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	g, gctx := errgroup.WithContext(runCtx)
	// Before the drain's goroutine starts: it reads what reporter sets.
	report := n.drain.reporter(func(ok bool) {
		n.ready.Report(ok)
		n.gapi.SetServing(ok)
	})
	g.Go(func() error { n.drain.run(ctx.Done(), gctx.Done(), n.hsrv, n.log); stopRun(); return nil })
	if n.consumer != nil {
		g.Go(func() error { return n.consumer.Run(gctx) })
		g.Go(func() error { return n.cfg.Kafka.checkKafka(gctx, strings.Split(n.cfg.Brokers, ","), n.log) })
	}
	g.Go(func() error {
		// The warm runs once the directory is loaded, so after the consumer
		// attached: every change after a warm snapshot is consumed, and the
		// consumer applies changes while the warm loads (docs/consistency.md,
		// "Warm start").
		var attached <-chan struct{}
		if n.consumer != nil {
			attached = n.consumer.Attached()
		}
		n.svc.StartRetrying(gctx, attached, startRetry)
		if !n.svc.Started() {
			return nil // stopped before the database answered
		}
		n.warm.run(gctx)
		return nil
	})
	g.Go(func() error { return n.svc.Run(gctx) })
	g.Go(func() error { n.fresh.Watch(gctx, healthInterval, report); return nil })
	if n.inspector != nil {
		g.Go(func() error { n.inspector.Run(gctx); return nil })
	}
	if n.tlsr != nil {
		g.Go(func() error { return n.tlsr.Run(gctx, n.cfg.API.TLSReload) })
	}
	g.Go(func() error { return n.admin.serve(gctx) })
	g.Go(func() error {
		if err := serveHTTP(n.hsrv, n.httpLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("HTTP server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := n.gsrv.Serve(n.grpcLn); err != nil {
			return fmt.Errorf("gRPC server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutdownServers(n.gapi, n.gsrv, n.hsrv, n.cfg.ShutdownTimeout, n.log)
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	n.log.Info("stopped")
	return nil
}

// startRetry is how often a starting node tries again to load the
// warehouse directory while the database does not answer.
const startRetry = 500 * time.Millisecond
