package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // the database/sql driver
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
)

// bench is one run of the benchmark: its configuration, the processes it
// started (stopped by close) and what it measured. It is used by one
// goroutine.
type bench struct {
	cfg    config
	addrs  addrs
	phases map[string]bool
	tmp    string    // scratch directory: bodies files, wrk script
	script string    // path of the wrk script
	log    io.Writer // progress lines
	db     *sql.DB   // the stack's database, as root
	client *http.Client

	cached, noCache, bareHTTP, bareGRPC *proc
	procs                               []*proc // everything started, in order

	rep report
}

// runBench is `gintoki-bench run`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	phases, _ := cfg.phaseSet()
	b := &bench{cfg: cfg, addrs: cfg.addrs(), phases: phases, log: stderr, client: newHTTPClient(256)}
	defer b.close()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	b.run(ctx)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if cfg.Report != "" {
		b.rep.Charts, b.rep.ChartsErr = renderCharts(filepath.Dir(cfg.Report), &b.rep)
	}
	md := b.rep.markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	if cfg.Report != "" {
		if err := os.WriteFile(cfg.Report, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		b.logf("report written to %s", cfg.Report)
	}
	return nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// newHTTPClient returns a client keeping up to conns idle connections.
func newHTTPClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns
	t.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// prepare checks the prerequisites and opens the database.
func (b *bench) prepare(ctx context.Context) error {
	var errs []error
	if _, err := os.Stat(b.cfg.Gintoki); err != nil {
		errs = append(errs, fmt.Errorf("gintoki binary: %w (run make build)", err))
	}
	if b.phases["http"] || b.phases["memory"] || b.phases["cold"] {
		if _, err := exec.LookPath("wrk"); err != nil {
			errs = append(errs, errors.New("wrk not found: run scripts/deps.sh --bench"))
		}
	}
	a := b.addrs
	for _, addr := range []string{a.HTTP, a.GRPC, a.NoCacheHTTP, a.NoCacheGR, a.BareHTTP, a.BareGRPC, a.MemHTTP, a.MemGRPC, a.MemAdmin} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("port needed by the benchmark is busy: %w", err))
			continue
		}
		ln.Close()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "gintoki-bench-")
	if err != nil {
		return fmt.Errorf("scratch directory: %w", err)
	}
	b.tmp = tmp
	if b.script, err = writeWrkScript(tmp); err != nil {
		return err
	}
	db, err := sql.Open("mysql", b.cfg.DBDSN)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	db.SetMaxOpenConns(b.cfg.Writers + 8)
	db.SetMaxIdleConns(b.cfg.Writers + 8)
	b.db = db
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		return fmt.Errorf("database %s: %w (is MariaDB running? scripts/bench.sh starts it)", b.cfg.DBDSN, err)
	}
	b.rep.Started = time.Now()
	b.rep.Command = b.cfg.Command
	b.rep.Quick = b.cfg.Quick
	b.rep.Machine = machine(ctx, db)
	b.rep.Settings = b.settings()
	b.rep.Products = b.cfg.Products
	a = b.addrs
	b.rep.Ports = fmt.Sprintf("HTTP/gRPC: cached %s/%s, db-only %s/%s, bare %s/%s, 1M products %s/%s",
		a.HTTP, a.GRPC, a.NoCacheHTTP, a.NoCacheGR, a.BareHTTP, a.BareGRPC, a.MemHTTP, a.MemGRPC)
	return nil
}

// close stops every process the benchmark started, newest first, and
// removes the scratch directory.
func (b *bench) close() {
	for i := len(b.procs) - 1; i >= 0; i-- {
		if err := b.procs[i].stop(15 * time.Second); err != nil {
			b.logf("stopping %s: %v", b.procs[i].name, err)
		}
	}
	b.procs = nil
	if b.db != nil {
		b.db.Close()
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// stopProc stops one process now (freeing its CPU and memory for the
// next phase); close will not stop it again.
func (b *bench) stopProc(p *proc) {
	if p == nil {
		return
	}
	if err := p.stop(15 * time.Second); err != nil {
		b.logf("stopping %s: %v", p.name, err)
	}
	b.procs = slices.DeleteFunc(b.procs, func(x *proc) bool { return x == p })
}

// run runs the selected phases. A phase that fails is reported as failed;
// the others still run, unless ctx ends.
func (b *bench) run(ctx context.Context) {
	needStack := b.phases["stampede"] || b.phases["http"] || b.phases["grpc"] || b.phases["fixed"] || b.phases["tail"] || b.phases["fresh"]
	if needStack {
		if err := b.startStack(ctx); err != nil {
			b.rep.StackErr = err
			b.logf("cannot start the services: %v", err)
		}
	}
	if needStack && b.rep.StackErr == nil {
		if b.phases["stampede"] {
			b.rep.Stampede = b.stampedePhase(ctx)
		}
		if err := b.warm(ctx); err != nil {
			b.rep.StackErr = err
			b.logf("warm-up failed: %v", err)
		} else {
			if b.phases["http"] {
				b.rep.HTTP = b.httpPhase(ctx)
			}
			if b.phases["grpc"] {
				b.rep.GRPC = b.grpcPhase(ctx)
			}
			if b.phases["fixed"] {
				b.rep.Fixed = b.fixedPhase(ctx)
			}
			if b.phases["tail"] {
				b.rep.Tail = b.tailPhase(ctx)
			}
			if b.phases["fresh"] {
				b.rep.Fresh = b.freshPhase(ctx)
			}
		}
	}
	for _, p := range []*proc{b.bareGRPC, b.bareHTTP, b.noCache, b.cached} {
		b.stopProc(p)
	}
	if b.phases["memory"] && ctx.Err() == nil {
		b.rep.Memory = b.memoryPhase(ctx)
	}
	if b.phases["cold"] && ctx.Err() == nil {
		b.rep.Cold = b.coldPhase(ctx)
	}
	if b.phases["cachebench"] && ctx.Err() == nil {
		b.rep.CacheBench = b.cacheBenchPhase(ctx)
	}
	b.rep.Finished = time.Now()
	b.rep.LoadAvgEnd = loadAvg()
}

// serveArgs returns the command line of a `gintoki serve` process.
func (b *bench) serveArgs(httpAddr, grpcAddr string, extra ...string) []string {
	// --warm off: the phases fill the caches themselves and measure the
	// miss path of a cold node; a phase that measures the warm start says
	// --warm itself (a later flag wins).
	args := []string{b.cfg.Gintoki, "serve", "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
		"--log-level", "warn", "--brokers", b.cfg.Brokers, "--warm", "off"}
	return append(args, extra...)
}

// startService starts a process and records it for close.
func (b *bench) startService(name, logName string, argv ...string) (*proc, error) {
	p, err := startProc(name, filepath.Join(b.cfg.LogDir, logName), argv...)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	b.logf("started %s (pid %d): %s", name, p.pid(), strings.Join(argv, " "))
	return p, nil
}

// startStack starts the cached and the db-only service and waits until
// both are ready.
func (b *bench) startStack(ctx context.Context) error {
	if err := ensureTopics(ctx, b.cfg.Brokers, b.cfg.TopicPrefix+"."+b.cfg.Database); err != nil {
		return err
	}
	var err error
	if b.cached, err = b.startService("gintoki serve", "bench-serve.log",
		b.serveArgs(b.addrs.HTTP, b.addrs.GRPC, "--db-dsn", b.cfg.DBDSN, "--topic-prefix", b.cfg.TopicPrefix, "--database", b.cfg.Database)...); err != nil {
		return err
	}
	if b.phases["http"] {
		if b.noCache, err = b.startService("gintoki serve --no-cache", "bench-serve-nocache.log",
			b.serveArgs(b.addrs.NoCacheHTTP, b.addrs.NoCacheGR, "--db-dsn", b.cfg.DBDSN, "--no-cache")...); err != nil {
			return err
		}
	}
	if err := waitHTTPReady(ctx, b.client, "http://"+b.addrs.HTTP+"/readyz", b.cached, 90*time.Second); err != nil {
		return err
	}
	if b.noCache != nil {
		if err := waitHTTPReady(ctx, b.client, "http://"+b.addrs.NoCacheHTTP+"/readyz", b.noCache, 90*time.Second); err != nil {
			return err
		}
	}
	b.logf("services ready")
	return nil
}

// warm loads every product into the cached service with batch requests
// (1,000 ids each), keeps the JSON bodies it receives and fetches the
// protobuf bodies by gRPC, then starts the bare baselines over them.
func (b *bench) warm(ctx context.Context) error {
	start := time.Now()
	jsonBodies := make(map[int64][]byte, b.cfg.Products)
	notFound, err := batchGetHTTP(ctx, b.client, "http://"+b.addrs.HTTP, b.cfg.Products, 1000, 2, func(ps []product) {
		for _, p := range ps {
			jsonBodies[p.ID] = p.Body
		}
	})
	if err != nil {
		return fmt.Errorf("warm the cache: %w", err)
	}
	if notFound > 0 {
		return fmt.Errorf("warm the cache: %d of ids 1..%d unknown: is the demo data seeded?", notFound, b.cfg.Products)
	}
	cc, err := grpc.NewClient(b.addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("fetch protobuf bodies: %w", err)
	}
	defer cc.Close()
	protoBodies := make(map[int64][]byte, b.cfg.Products)
	if err := batchGetGRPCRaw(ctx, cc, b.cfg.Products, 1000, func(ps []product) {
		for _, p := range ps {
			protoBodies[p.ID] = p.Body
		}
	}); err != nil {
		return err
	}
	b.logf("warmed %d products in %s", len(jsonBodies), time.Since(start).Round(time.Millisecond))

	if !b.phases["http"] && !b.phases["grpc"] && !b.phases["tail"] {
		return nil
	}
	jsonPath, protoPath := filepath.Join(b.tmp, "json.bodies"), filepath.Join(b.tmp, "proto.bodies")
	if err := writeBodies(jsonPath, jsonBodies); err != nil {
		return err
	}
	if err := writeBodies(protoPath, protoBodies); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start baselines: %w", err)
	}
	if b.bareHTTP, err = b.startService("bare-http", "bench-bare-http.log", self, "bare-http", "--addr", b.addrs.BareHTTP, "--bodies", jsonPath); err != nil {
		return err
	}
	if b.bareGRPC, err = b.startService("bare-grpc", "bench-bare-grpc.log", self, "bare-grpc", "--addr", b.addrs.BareGRPC, "--bodies", protoPath); err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, b.client, "http://"+b.addrs.BareHTTP+"/readyz", b.bareHTTP, 30*time.Second); err != nil {
		return err
	}
	return waitGRPCReady(ctx, b.addrs.BareGRPC, b.bareGRPC, 30*time.Second)
}

// waitGRPCReady calls GetInventory until it succeeds.
func waitGRPCReady(ctx context.Context, addr string, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := grpcProbe(ctx, addr)
		if err == nil {
			return nil
		}
		if perr := p.exitErr(); perr != nil {
			return perr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", p.name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// grpcProbe asks addr for product 1.
func grpcProbe(ctx context.Context, addr string) error {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = inventoryv1.NewInventoryServiceClient(cc).GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: 1})
	return err
}

// ensureTopics creates the change topics of a service (prefix is
// <topic-prefix>.<database>) if they do not exist: the consumer waits for
// them, and the relay only creates them on the first change.
func ensureTopics(ctx context.Context, brokers, prefix string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	topics := []string{prefix + ".warehouse_stock_item", prefix + ".warehouse"}
	resps, err := kadm.NewClient(cl).CreateTopics(ctx, 6, 1, nil, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v on %s: %w (is the broker running?)", topics, brokers, err)
	}
	for _, r := range resps {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}
