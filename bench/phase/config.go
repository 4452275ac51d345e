package phase

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/stack"
)

// Config is everything `gintoki-bench run` can be told. Durations left at
// zero take the full or the quick default (see Resolve).
type Config struct {
	Gintoki     string // the gintoki binary
	DBDSN       string // root DSN of the stack's database (updates, status, seeding)
	Brokers     string
	TopicPrefix string
	Database    string // database name in the stack's topics
	HTTPAddr    string // the cached service; +1, +2, +3 on the port are db-only, bare and memory
	GRPCAddr    string
	Report      string // Markdown report path; "" prints only
	Command     string // the command line shown in the report
	LogDir      string
	Schema      string
	CacheBench  string // package path of the cache library benchmark; "" skips it
	Phases      string // "all" or a comma-separated subset of the names in All (Parse)

	Quick         bool
	Rounds        int
	Duration      time.Duration // one closed-loop run (wrk, gRPC)
	FixedDuration time.Duration // one fixed-rate run
	FreshDuration time.Duration // the freshness run
	GCDuration    time.Duration // the read load of the memory phase

	Products    int // products of the stack's database (ids 1..Products)
	MemProducts int // products of the memory database
	MemDatabase string
	Rates       []int // fixed-rate targets, req/s
	FreshReads  []int // read rates of the freshness runs; the first is the target's
	FreshWrites int   // UPDATEs per second during the freshness run
	FreshSample int   // samples per second measured commit → visible
	FreshConns  int   // connections of the open-loop read load
	FreshVegeta bool  // also run the target's read rate with vegeta, for comparison
	Writers     int   // database connections issuing the UPDATEs
	WrkThreads  int
	WrkConns    int
	GRPCConns   int
	GRPCCallers int
	BatchSize   int // ids per gRPC batch call

	Tail tailConfig // the tail phase (tail.go)
}

// Flags registers the flags of `gintoki-bench run` on fs, into c.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Gintoki, "gintoki", "bin/gintoki", "the gintoki binary")
	fs.StringVar(&c.DBDSN, "db-dsn", "root@tcp(127.0.0.1:3307)/inventory", "DSN of the stack's database, for a user that may UPDATE, read global status and create a database")
	fs.StringVar(&c.Brokers, "brokers", "127.0.0.1:9092", "the stack's Kafka brokers, comma-separated")
	fs.StringVar(&c.TopicPrefix, "topic-prefix", "gintoki", "topic prefix of the stack's change topics (the relay's)")
	fs.StringVar(&c.Database, "database", "inventory", "database name in the stack's change topics")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:18080", "HTTP address of the cached service; the db-only, bare and memory servers use the next ports")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "127.0.0.1:19090", "gRPC address of the cached service; the others use the next ports")
	fs.StringVar(&c.Report, "report", "docs/benchmarks.md", "write the Markdown report here too (empty: stdout only)")
	fs.StringVar(&c.Command, "command", "", "the command shown in the report (default: this command line)")
	fs.StringVar(&c.LogDir, "log-dir", ".local/logs", "logs of the processes the benchmark starts")
	fs.StringVar(&c.Schema, "schema", "schema/schema.sql", "schema of the memory phase's database")
	fs.StringVar(&c.CacheBench, "cachebench", "./cachebench", "package of the cache library comparison, run with go test (empty: skip)")
	fs.StringVar(&c.Phases, "phases", "all", "phases to run: all, or a comma-separated subset of "+strings.Join(All.Names(), ","))
	fs.BoolVar(&c.Quick, "quick", false, "smoke run: every phase a few seconds")
	fs.IntVar(&c.Rounds, "rounds", 3, "rounds of each interleaved comparison")
	fs.DurationVar(&c.Duration, "duration", 0, "length of one closed-loop run, whole seconds (default 10s, quick 2s)")
	fs.DurationVar(&c.FixedDuration, "fixed-duration", 0, "length of one fixed-rate run (default 10s, quick 2s)")
	fs.DurationVar(&c.FreshDuration, "fresh-duration", 0, "length of each freshness run (default 10s, quick 3s)")
	fs.DurationVar(&c.GCDuration, "gc-duration", 0, "length of the read load of the memory phase, whole seconds (default 20s, quick 3s)")
	fs.IntVar(&c.Products, "products", 100_000, "products of the stack's database: ids 1..N")
	fs.IntVar(&c.MemProducts, "mem-products", 1_000_000, "products of the memory phase's database")
	fs.StringVar(&c.MemDatabase, "mem-database", "inventory_1m", "database of the memory phase, created and seeded if missing")
	fs.Func("rates", "fixed-rate targets in req/s, comma-separated (default 10000,16700)", func(s string) error {
		r, err := parseInts(s)
		c.Rates = r
		return err
	})
	fs.Func("fresh-reads", "read rates (req/s) of the freshness runs, comma-separated; the first is the target's, the others show the effect of the load (default 20000,10000,1000)", func(s string) error {
		r, err := parseInts(s)
		c.FreshReads = r
		return err
	})
	fs.IntVar(&c.FreshWrites, "fresh-writes", 1_000, "UPDATEs per second during the freshness run")
	fs.IntVar(&c.FreshSample, "fresh-sample", 50, "UPDATEs per second whose commit → visible time is measured")
	fs.IntVar(&c.FreshConns, "fresh-conns", 64, "connections of the freshness runs' open-loop read load")
	fs.BoolVar(&c.FreshVegeta, "fresh-vegeta", true, "also run the first read rate with vegeta as the reader, for comparison")
	fs.IntVar(&c.Writers, "writers", 16, "database connections issuing the UPDATEs")
	fs.IntVar(&c.WrkThreads, "wrk-threads", 2, "wrk -t")
	fs.IntVar(&c.WrkConns, "wrk-connections", 64, "wrk -c")
	fs.IntVar(&c.GRPCConns, "grpc-conns", 4, "gRPC connections of the gRPC load generator")
	fs.IntVar(&c.GRPCCallers, "grpc-callers", 64, "concurrent callers of the gRPC load generator")
	fs.IntVar(&c.BatchSize, "batch-size", 100, "ids per BatchGetInventory call")
	c.Tail.Flags(fs)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// Resolve fills the defaults that depend on --quick.
func (c *Config) Resolve() {
	pick := func(d *time.Duration, full, quick time.Duration) {
		if *d == 0 {
			*d = full
			if c.Quick {
				*d = quick
			}
		}
	}
	pick(&c.Duration, 10*time.Second, 2*time.Second)
	pick(&c.FixedDuration, 10*time.Second, 2*time.Second)
	pick(&c.FreshDuration, 10*time.Second, 3*time.Second)
	pick(&c.GCDuration, 20*time.Second, 3*time.Second)
	// wrk runs for whole seconds.
	c.Duration = max(time.Second, c.Duration.Round(time.Second))
	c.GCDuration = max(time.Second, c.GCDuration.Round(time.Second))
	if len(c.Rates) == 0 {
		c.Rates = []int{10_000, 16_700}
	}
	if len(c.FreshReads) == 0 {
		c.FreshReads = []int{20_000, 10_000, 1_000}
	}
	c.Tail.Resolve(c.Quick)
}

// Validate checks what the flags said, every mistake at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Rounds < 1 {
		errs = append(errs, errors.New("--rounds must be positive"))
	}
	if c.FixedDuration <= 0 || c.FreshDuration <= 0 {
		errs = append(errs, errors.New("durations must be positive"))
	}
	for _, n := range []int{c.Products, c.MemProducts, c.FreshWrites, c.FreshSample, c.FreshConns, c.Writers,
		c.WrkThreads, c.WrkConns, c.GRPCConns, c.GRPCCallers, c.BatchSize} {
		if n <= 0 {
			errs = append(errs, errors.New("counts and rates must be positive"))
			break
		}
	}
	if c.FreshSample > c.FreshWrites {
		errs = append(errs, errors.New("--fresh-sample must not exceed --fresh-writes"))
	}
	for _, a := range []string{c.HTTPAddr, c.GRPCAddr} {
		if _, err := stack.PortOf(a); err != nil {
			errs = append(errs, err)
		}
	}
	if !stack.DatabaseNameRE.MatchString(c.MemDatabase) {
		errs = append(errs, fmt.Errorf("--mem-database %q: letters, digits and _ only", c.MemDatabase))
	}
	if _, err := Parse(c.Phases); err != nil {
		errs = append(errs, err)
	}
	if err := c.Tail.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Addrs are the listen addresses of every process the benchmark starts.
type Addrs struct {
	HTTP, GRPC             string // cached service
	NoCacheHTTP, NoCacheGR string // db-only service
	BareHTTP, BareGRPC     string
	MemHTTP, MemGRPC       string // memory phase's service
	MemAdmin               string // its admin address (/debug/pprof/)
}

// Addrs derives every listen address from --http-addr and --grpc-addr.
func (c *Config) Addrs() Addrs {
	return Addrs{
		HTTP: c.HTTPAddr, GRPC: c.GRPCAddr,
		NoCacheHTTP: stack.ShiftPort(c.HTTPAddr, 1), NoCacheGR: stack.ShiftPort(c.GRPCAddr, 1),
		BareHTTP: stack.ShiftPort(c.HTTPAddr, 2), BareGRPC: stack.ShiftPort(c.GRPCAddr, 2),
		MemHTTP: stack.ShiftPort(c.HTTPAddr, 3), MemGRPC: stack.ShiftPort(c.GRPCAddr, 3),
		MemAdmin: stack.ShiftPort(c.HTTPAddr, 4),
	}
}
