package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/mysql"
	"github.com/gintoki/gintoki/promexport"
)

// The formats of the bodies the Service keeps, one per transport: each
// transport asks for its own pre-encoded body. An entry keeps the bodies in
// this order, right after a header of a few bytes: the short protobuf body
// comes first, so that it shares its first cache line with the header, and
// a gRPC read (a batch's hundred included) waits for one memory load per
// product rather than three. The JSON body follows it, read in one stream.
const (
	formatProto app.BodyFormat = iota
	formatJSON
)

func runServe(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	var cfg serveConfig
	env := flagEnv(lookupEnv)
	fs := newFlagSet("serve", "Serve product inventory over gRPC and HTTP/JSON from a cache kept fresh by the change stream.", env, stderr)
	cfg.flags(fs)
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	cfg.Kafka.resolve(lookupEnv)
	warnings, err := cfg.resolveDeprecated(env.Given(fs))
	if err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.DBDSN, err = withPasswordFile(cfg.DBDSN, cfg.API.DBPasswordFile); err != nil {
		return err
	}
	log, err := cfg.Log.logger(stdout)
	if err != nil {
		return err
	}
	for _, w := range append(warnings, cfg.boundWarnings()...) {
		log.Warn(w)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && cfg.MemoryHeadroom > 0 {
		limit := int64(cfg.CacheBytes) + int64(cfg.MemoryHeadroom)
		debug.SetMemoryLimit(limit)
		log.Info("Go memory limit set", "bytes", limit)
	}
	return serve(ctx, cfg, log, nil)
}

// serve runs the service until ctx ends, then shuts down gracefully. If
// listening is not nil it receives the bound addresses (for tests; adminAddr
// is empty without --admin-addr).
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, listening func(httpAddr, grpcAddr, adminAddr string)) error {
	n, err := newServingNode(cfg, log, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	defer n.close()
	log.Info("serving", "http", n.httpLn.Addr().String(), "grpc", n.grpcLn.Addr().String(), "tls", n.tlsr != nil,
		"mtls", cfg.API.TLS.ClientCAFile != "", "admin", n.admin.addr(), "cache_bytes", cfg.CacheBytes, "no_cache", cfg.NoCache, "topics", cfg.topics())
	if listening != nil {
		listening(n.httpLn.Addr().String(), n.grpcLn.Addr().String(), n.admin.addr())
	}
	return n.run(ctx)
}

// newServingNode builds the parts of a node from cfg, registers their
// metrics in reg and binds the listeners; nothing runs yet. On an error,
// what was built is released.
func newServingNode(cfg serveConfig, log *slog.Logger, reg *prometheus.Registry) (n *servingNode, err error) {
	n = &servingNode{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	pool := cfg.FillQueries + 3 // fills, plus readiness pings, upkeep probes and the inspector
	if cfg.NoCache {
		pool = 0 // the store's default: every request is a query
	}
	store, err := mysql.Open(mysql.Config{DSN: cfg.DBDSN, StockTable: cfg.StockTable, WarehouseTable: cfg.WarehouseTable,
		MaxOpenConns: pool}, log, reg)
	if err != nil {
		return nil, err
	}
	n.store = store
	c, err := cache.New(cfg.CacheBytes)
	if err != nil {
		return nil, err
	}
	renderers := []app.Renderer{formatProto: grpcapi.ProtoRenderer{}, formatJSON: httpapi.JSONRenderer{}}
	svc := app.New(store, c, renderers, app.Config{MaxBatch: cfg.MaxBatch, LoadTimeout: cfg.LoadTimeout, Loaders: cfg.FillQueries}, log)
	n.svc = svc
	// What the transports read: the cached service, or with --no-cache the
	// database itself.
	var reader app.Reader = svc
	if cfg.NoCache {
		reader = mysql.NewDirect(store, renderers, cfg.MaxBatch)
	}

	applyDelay := promexport.NewChangeApplyDelay()
	var feed *app.Feed
	if !cfg.NoCache {
		feed = app.NewFeed(svc, debezium.Decoder{StockTable: cfg.StockTable, WarehouseTable: cfg.WarehouseTable},
			app.FeedConfig{ObserveDelay: applyDelay.ObserveDuration, Reason: decodeReason}, log)
		n.consumer, err = kafka.NewConsumer(kafka.ConsumerConfig{
			Brokers: strings.Split(cfg.Brokers, ","), Topics: cfg.topics(), ReplayWindow: cfg.ReplayWindow,
			ProbeInterval: probeInterval(cfg.MaxStaleness), SourceTime: feed.SourceTime, Security: cfg.Kafka.security(), Logger: log,
		}, feed.Handle)
		if err != nil {
			return nil, err
		}
	}
	if n.warm, err = newWarmer(cfg, svc, store, c, log); err != nil {
		return nil, err
	}
	if n.fresh, err = newFreshness(cfg, svc, store, n.consumer, feed, n.warm.progress, log); err != nil {
		return nil, err
	}
	n.ready = new(promexport.Readiness)
	n.drain = &drain{delay: cfg.DrainDelay}
	if !cfg.NoCache && cfg.InspectRate > 0 {
		if n.inspector, err = app.NewInspector(store, c, n.fresh, app.InspectorConfig{Rate: cfg.InspectRate, LoadTimeout: cfg.LoadTimeout}, log); err != nil {
			return nil, err
		}
	}
	reg.MustRegister(promexport.ServeCollectors(promexport.ServeParts{
		Service: svc, Cache: c, Freshness: n.fresh, Readiness: n.ready, ApplyDelay: applyDelay,
		Feed: feed, Consumer: n.consumer, RejectReasons: rejectReasons, Warm: n.warm.progress, Inspector: n.inspector,
	})...)

	if n.tlsr, err = cfg.API.tlsReloader(log); err != nil {
		return nil, err
	}
	if n.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen HTTP: %w", err)
	}
	if n.grpcLn, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen gRPC: %w", err)
	}
	if n.admin, err = listenAdmin(cfg.API.AdminAddr, c.IDs(), log); err != nil {
		return nil, err
	}
	n.gapi = grpcapi.New(reader, grpcapi.Config{Format: formatProto, Stale: n.fresh.Stale, Reflection: cfg.API.GRPCReflection, Limits: cfg.API.grpcLimits()}, log, reg)
	if n.gsrv, err = n.gapi.NewGRPCServer(grpcServerOptions(n.tlsr)...); err != nil {
		return nil, err
	}
	hapi := httpapi.New(reader, httpapi.Config{
		Format: formatJSON, MaxBodyBytes: cfg.API.MaxBodyBytes, AccessLogEvery: cfg.AccessLogEvery, Ready: n.drain.ready(n.fresh.Ready), Stale: n.fresh.Stale,
		Gatherer: reg,
	}, log, reg)
	var httpTLS *tls.Config
	if n.tlsr != nil {
		httpTLS = n.tlsr.ServerConfig()
	}
	n.hsrv = hapi.NewHTTPServer(cfg.API.HTTP, httpTLS, log)
	n.hsrv.Handler = n.drain.closing(n.hsrv.Handler)
	return n, nil
}
