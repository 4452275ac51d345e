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
	reg := prometheus.NewRegistry()

	pool := cfg.FillQueries + 3 // fills, plus readiness pings, upkeep probes and the inspector
	if cfg.NoCache {
		pool = 0 // the store's default: every request is a query
	}
	store, err := mysql.Open(mysql.Config{DSN: cfg.DBDSN, StockTable: cfg.StockTable, WarehouseTable: cfg.WarehouseTable,
		MaxOpenConns: pool}, log, reg)
	if err != nil {
		return err
	}
	defer store.Close()
	c, err := cache.New(cfg.CacheBytes)
	if err != nil {
		return err
	}
	renderers := []app.Renderer{formatProto: grpcapi.ProtoRenderer{}, formatJSON: httpapi.JSONRenderer{}}
	svc := app.New(store, c, renderers, app.Config{MaxBatch: cfg.MaxBatch, LoadTimeout: cfg.LoadTimeout, Loaders: cfg.FillQueries}, log)
	defer svc.Close()
	// What the transports read: the cached service, or with --no-cache the
	// database itself.
	var reader app.Reader = svc
	if cfg.NoCache {
		reader = mysql.NewDirect(store, renderers, cfg.MaxBatch)
	}

	applyDelay := promexport.NewChangeApplyDelay()
	var (
		consumer *kafka.Consumer
		feed     *app.Feed
	)
	if !cfg.NoCache {
		feed = app.NewFeed(svc, debezium.Decoder{StockTable: cfg.StockTable, WarehouseTable: cfg.WarehouseTable},
			app.FeedConfig{ObserveDelay: applyDelay.ObserveDuration, Reason: decodeReason}, log)
		consumer, err = kafka.NewConsumer(kafka.ConsumerConfig{
			Brokers: strings.Split(cfg.Brokers, ","), Topics: cfg.topics(), ReplayWindow: cfg.ReplayWindow,
			ProbeInterval: probeInterval(cfg.MaxStaleness), SourceTime: feed.SourceTime, Security: cfg.Kafka.security(), Logger: log,
		}, feed.Handle)
		if err != nil {
			return err
		}
	}
	warm, err := newWarmer(cfg, svc, store, c, log)
	if err != nil {
		return err
	}
	fresh, err := newFreshness(cfg, svc, store, consumer, feed, warm.progress, log)
	if err != nil {
		return err
	}
	ready := new(promexport.Readiness)
	dr := &drain{delay: cfg.DrainDelay}
	var inspector *app.Inspector
	if !cfg.NoCache && cfg.InspectRate > 0 {
		if inspector, err = app.NewInspector(store, c, fresh, app.InspectorConfig{Rate: cfg.InspectRate, LoadTimeout: cfg.LoadTimeout}, log); err != nil {
			return err
		}
	}
	reg.MustRegister(promexport.ServeCollectors(promexport.ServeParts{
		Service: svc, Cache: c, Freshness: fresh, Readiness: ready, ApplyDelay: applyDelay,
		Feed: feed, Consumer: consumer, RejectReasons: rejectReasons, Warm: warm.progress, Inspector: inspector,
	})...)

	tlsr, err := cfg.API.tlsReloader(log)
	if err != nil {
		return err
	}
	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen HTTP: %w", err)
	}
	grpcLn, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("listen gRPC: %w", err)
	}
	admin, err := listenAdmin(cfg.API.AdminAddr, c.IDs(), log)
	if err != nil {
		httpLn.Close()
		grpcLn.Close()
		return err
	}
	gapi := grpcapi.New(reader, grpcapi.Config{Format: formatProto, Stale: fresh.Stale, Reflection: cfg.API.GRPCReflection, Limits: cfg.API.grpcLimits()}, log, reg)
	gsrv, err := gapi.NewGRPCServer(grpcServerOptions(tlsr)...)
	if err != nil {
		httpLn.Close()
		grpcLn.Close()
		admin.close()
		return err
	}
	hapi := httpapi.New(reader, httpapi.Config{
		Format: formatJSON, MaxBodyBytes: cfg.API.MaxBodyBytes, AccessLogEvery: cfg.AccessLogEvery, Ready: dr.ready(fresh.Ready), Stale: fresh.Stale,
		Gatherer: reg,
	}, log, reg)
	var httpTLS *tls.Config
	if tlsr != nil {
		httpTLS = tlsr.ServerConfig()
	}
	hsrv := hapi.NewHTTPServer(cfg.API.HTTP, httpTLS, log)
	hsrv.Handler = dr.closing(hsrv.Handler)
	log.Info("serving", "http", httpLn.Addr().String(), "grpc", grpcLn.Addr().String(), "tls", tlsr != nil,
		"mtls", cfg.API.TLS.ClientCAFile != "", "admin", admin.addr(), "cache_bytes", cfg.CacheBytes, "no_cache", cfg.NoCache, "topics", cfg.topics())
	if listening != nil {
		listening(httpLn.Addr().String(), grpcLn.Addr().String(), admin.addr())
	}

	return (&servingNode{
		cfg: cfg, log: log, svc: svc, consumer: consumer, warm: warm, fresh: fresh, inspector: inspector, tlsr: tlsr,
		ready: ready, drain: dr, gapi: gapi, gsrv: gsrv, hsrv: hsrv, httpLn: httpLn, grpcLn: grpcLn, admin: admin,
	}).run(ctx)
}
