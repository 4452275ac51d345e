package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/mysql"
)

// serveConfig is everything `gintoki serve` can be told.
type serveConfig struct {
	HTTPAddr         string
	GRPCAddr         string
	DBDSN            string
	Database         string
	StockTable       string
	WarehouseTable   string
	CacheBytes       int
	MemoryHeadroom   int
	NoCache          bool
	MaxBatch         int
	FillQueries      int
	LoadTimeout      time.Duration
	Brokers          string
	Kafka            kafkaFlags
	TopicPrefix      string
	MaxStaleness     time.Duration
	Heartbeats       bool
	InspectRate      float64
	MaxLag           time.Duration // deprecated alias of MaxStaleness, see resolveDeprecated
	HeartbeatTimeout time.Duration // deprecated, see resolveDeprecated
	ReplayWindow     time.Duration
	ShutdownTimeout  time.Duration
	DrainDelay       time.Duration
	Warm             warmSource
	WarmTimeout      time.Duration
	WarmRate         float64
	AccessLogEvery   uint64
	API              apiConfig
	Log              logConfig
}

func (c *serveConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", ":8080", "HTTP listen address (API, /metrics, /healthz, /readyz)")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", ":9090", "gRPC listen address")
	fs.StringVar(&c.DBDSN, "db-dsn", "root@tcp(127.0.0.1:3307)/inventory", "database DSN (go-sql-driver format); a read-only user is enough, see README. "+
		"Pass a DSN with a password through $GINTOKI_DB_DSN, or the password through --db-password-file: the command line is readable by every local user")
	fs.StringVar(&c.Database, "database", "inventory", "database name, as it appears in change topic names")
	fs.StringVar(&c.StockTable, "stock-table", "warehouse_stock_item", "stock table name")
	fs.StringVar(&c.WarehouseTable, "warehouse-table", "warehouse", "warehouse table name")
	fs.IntVar(&c.CacheBytes, "cache-bytes", 256<<20, "cache size in bytes (entries are evicted beyond it)")
	fs.IntVar(&c.MemoryHeadroom, "memory-headroom", 128<<20, "bytes of Go heap allowed beyond --cache-bytes before the garbage collector works harder: "+
		"the runtime memory limit is set to their sum (0: Go's defaults; $GOMEMLIMIT, if set, wins). Without it the cache's arena "+
		"counts as live heap and lets garbage grow as large as the cache")
	fs.BoolVar(&c.NoCache, "no-cache", false, "read the database on every request (a benchmark baseline; no change consumer)")
	fs.IntVar(&c.MaxBatch, "max-batch", 1000, "largest number of ids in one batch request")
	fs.IntVar(&c.FillQueries, "fill-queries", 8, "most cache-fill queries run at once; misses that arrive while one runs gather into the next, "+
		"and a further query starts only for a full batch (500 ids) of waiting misses. "+
		"The database pool is this plus 3 connections (readiness, upkeep and the inspector), so no burst of misses opens more")
	fs.DurationVar(&c.LoadTimeout, "load-timeout", 2*time.Second, "time limit of one database load")
	fs.StringVar(&c.Brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	c.Kafka.flags(fs)
	fs.StringVar(&c.TopicPrefix, "topic-prefix", "gintoki", "change topic prefix: topics are <prefix>.<database>.<table> (Debezium's topic.prefix)")
	fs.DurationVar(&c.MaxStaleness, "max-staleness", defaultMaxStaleness, "the staleness bound: an answer not marked stale (X-Gintoki-Stale, gRPC trailer gintoki-stale) "+
		"reflects every change committed more than this long before the node received the request; a node further behind than this "+
		"in the topics is also not ready (docs/consistency.md)")
	fs.BoolVar(&c.Heartbeats, "heartbeats", true, "the change source publishes heartbeats to __debezium-heartbeat.<topic-prefix> while the database is idle "+
		"(the relay does; Debezium with heartbeat.interval.ms), so a stopped source, broker or database marks answers stale within "+
		"--max-staleness; false: only this node's lag behind the topics is bounded")
	fs.Float64Var(&c.InspectRate, "inspect-rate", 2, "cached keys per second the inspector compares with a fresh database read; "+
		"mismatches that outlive --max-staleness are counted in gintoki_inspector_mismatches_total and logged (0: off)")
	fs.DurationVar(&c.MaxLag, "max-lag", 0, "deprecated alias of --max-staleness")
	fs.DurationVar(&c.HeartbeatTimeout, "heartbeat-timeout", 0, "deprecated: 0 is --heartbeats=false; other values are ignored, the silence allowed is derived from --max-staleness")
	fs.DurationVar(&c.ReplayWindow, "replay-window", 10*time.Second, "on start, re-read changes this old (harmless replays) so none is missed")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "time to drain in-flight requests on SIGINT/SIGTERM")
	fs.DurationVar(&c.DrainDelay, "drain-delay", 0, "on SIGINT/SIGTERM, first report not ready (/readyz 503, gRPC health NOT_SERVING), answer every HTTP request "+
		"with Connection: close (idle connections are closed halfway through) and keep serving this long, so load balancers move clients to other nodes; "+
		"then shut down (--shutdown-timeout). Set it above the balancers' time to mark a node down (HAProxy: inter × fall). 0: shut down at once")
	c.Warm = warmSource{mode: warmAll}
	fs.Var(&c.Warm, "warm", "what to load into the cache before reporting ready (/readyz answers \"warming\" meanwhile): "+
		"off; all (every product, in id order, until the cache is full); file:PATH (the ids in PATH, one per line, # comments allowed, in file order); "+
		"peer:URL (the ids a running node holds, from its admin address: peer:http://HOST:PORT reads "+cachedIDsPath+"; every product if it cannot be read)")
	fs.Float64Var(&c.WarmRate, "warm-rate", 0, "most products loaded per second by a warm start (0: no bound): a lighter load on a shared database, "+
		"and on the peers of a node that shares their host, for a longer warm")
	fs.DurationVar(&c.WarmTimeout, "warm-timeout", time.Minute, "longest warm start: after it the node stops warming, logs a warning and reports ready with a partly warm cache")
	fs.Uint64Var(&c.AccessLogEvery, "access-log-every", 0, "log one HTTP request in N (0: off; 5xx are always logged)")
	c.API.flags(fs)
	c.Log.flags(fs)
}

func (c *serveConfig) validate() error {
	var errs []error
	if c.CacheBytes < cache.MinBytes {
		errs = append(errs, fmt.Errorf("--cache-bytes must be at least %d", cache.MinBytes))
	}
	if c.DrainDelay < 0 {
		errs = append(errs, errors.New("--drain-delay must not be negative"))
	}
	if c.MemoryHeadroom < 0 {
		errs = append(errs, errors.New("--memory-headroom must not be negative"))
	}
	if c.MaxBatch < 1 {
		errs = append(errs, errors.New("--max-batch must be positive"))
	}
	if c.FillQueries <= 0 {
		errs = append(errs, errors.New("--fill-queries must be positive"))
	}
	if c.LoadTimeout <= 0 || c.MaxStaleness <= 0 || c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--load-timeout, --max-staleness and --shutdown-timeout must be positive"))
	}
	if c.Warm.on() && c.WarmTimeout <= 0 {
		errs = append(errs, errors.New("--warm-timeout must be positive"))
	}
	if c.WarmRate < 0 {
		errs = append(errs, errors.New("--warm-rate must not be negative"))
	}
	if c.InspectRate < 0 || c.InspectRate > 1000 {
		errs = append(errs, errors.New("--inspect-rate must be between 0 and 1000 keys per second"))
	}
	if err := c.API.validate(); err != nil {
		errs = append(errs, err)
	}
	if !c.NoCache && strings.TrimSpace(c.Brokers) == "" {
		errs = append(errs, errors.New("--brokers is required: without the change stream the cache could serve stale data forever (use --no-cache to read the database only)"))
	}
	if !c.NoCache {
		errs = append(errs, c.Kafka.validate())
	}
	return errors.Join(errs...)
}

func (c *serveConfig) topics() []string {
	ts := []string{
		c.TopicPrefix + "." + c.Database + "." + c.StockTable,
		c.TopicPrefix + "." + c.Database + "." + c.WarehouseTable,
	}
	if c.Heartbeats {
		ts = append(ts, debezium.HeartbeatTopic(c.TopicPrefix))
	}
	return ts
}

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
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newGCPauseCollector(),
	)

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

	m := newServeMetrics(reg, svc, c)
	var (
		consumer *kafka.Consumer
		feed     *app.Feed
	)
	if !cfg.NoCache {
		feed = app.NewFeed(svc, debezium.Decoder{StockTable: cfg.StockTable, WarehouseTable: cfg.WarehouseTable},
			app.FeedConfig{ObserveDelay: m.observeDelay, Reason: decodeReason}, log)
		consumer, err = kafka.NewConsumer(kafka.ConsumerConfig{
			Brokers: strings.Split(cfg.Brokers, ","), Topics: cfg.topics(), ReplayWindow: cfg.ReplayWindow,
			ProbeInterval: probeInterval(cfg.MaxStaleness), SourceTime: feed.SourceTime, Security: cfg.Kafka.security(), Logger: log,
		}, feed.Handle)
		if err != nil {
			return err
		}
		m.watchFeed(reg, feed, consumer)
	}
	warm, err := newWarmer(cfg, svc, store, c, log)
	if err != nil {
		return err
	}
	m.watchWarm(reg, warm.progress)
	fresh, err := newFreshness(cfg, svc, store, consumer, feed, warm.progress, log)
	if err != nil {
		return err
	}
	m.watchFreshness(reg, fresh, feed)
	var ready readiness
	ready.register(reg)
	dr := &drain{delay: cfg.DrainDelay}
	var inspector *app.Inspector
	if !cfg.NoCache && cfg.InspectRate > 0 {
		if inspector, err = app.NewInspector(store, c, fresh, app.InspectorConfig{Rate: cfg.InspectRate, LoadTimeout: cfg.LoadTimeout}, log); err != nil {
			return err
		}
		m.watchInspector(reg, inspector)
	}

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

	// The node runs until the signal's drain is over (ctx, then
	// --drain-delay) or one of its parts fails.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	g, gctx := errgroup.WithContext(runCtx)
	// Before the drain's goroutine starts: it reads what reporter sets.
	report := dr.reporter(ready.report(gapi.SetServing))
	g.Go(func() error { dr.run(ctx.Done(), gctx.Done(), hsrv, log); stopRun(); return nil })
	if consumer != nil {
		g.Go(func() error { return consumer.Run(gctx) })
		g.Go(func() error { return cfg.Kafka.checkKafka(gctx, strings.Split(cfg.Brokers, ","), log) })
	}
	g.Go(func() error {
		// The warm runs once the directory is loaded, so after the consumer
		// attached: every change after a warm snapshot is consumed, and the
		// consumer applies changes while the warm loads (docs/consistency.md,
		// "Warm start").
		if err := startService(gctx, svc, consumer, log); err != nil || !svc.Started() {
			return err
		}
		warm.run(gctx)
		return nil
	})
	g.Go(func() error { return svc.Run(gctx) })
	g.Go(func() error { fresh.Watch(gctx, healthInterval, report); return nil })
	if inspector != nil {
		g.Go(func() error { inspector.Run(gctx); return nil })
	}
	if tlsr != nil {
		g.Go(func() error { return tlsr.Run(gctx, cfg.API.TLSReload) })
	}
	g.Go(func() error { return admin.serve(gctx) })
	g.Go(func() error {
		if err := serveHTTP(hsrv, httpLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("HTTP server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := gsrv.Serve(grpcLn); err != nil {
			return fmt.Errorf("gRPC server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout.String())
		gapi.Shutdown()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), cfg.ShutdownTimeout)
		defer cancel()
		stopped := make(chan struct{})
		go func() { gsrv.GracefulStop(); close(stopped) }()
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
		}
		return nil
	})
	err = g.Wait()
	if err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// startService loads the warehouse directory once the consumer is attached
// (so no warehouse change after the load can be missed), retrying while
// the database is unreachable.
func startService(ctx context.Context, svc *app.Service, consumer *kafka.Consumer, log *slog.Logger) error {
	if consumer != nil {
		select {
		case <-consumer.Attached():
		case <-ctx.Done():
			return nil
		}
	}
	for attempt := 0; ; attempt++ {
		err := svc.Start(ctx)
		if err == nil {
			return nil
		}
		if attempt%10 == 0 {
			log.Warn("cannot load the warehouse directory yet; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// rejectReasons are the reasons decodeReason gives.
var rejectReasons = []string{"unknown_table", "malformed"}

func decodeReason(err error) string {
	if errors.Is(err, debezium.ErrUnknownTable) {
		return "unknown_table"
	}
	return "malformed"
}
