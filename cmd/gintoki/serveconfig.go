package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/debezium"
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
