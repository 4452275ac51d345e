package phase

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

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stack"
	_ "github.com/go-sql-driver/mysql" // the database/sql driver
)

// Env is what the phases of one run share: its configuration, the stack's
// database, the processes it started (stopped by close) and the report
// the phases fill, each its own field. It is used by one goroutine.
type Env struct {
	cfg    Config
	addrs  Addrs
	phases Selection
	tmp    string    // scratch directory: bodies files, wrk script
	script string    // path of the wrk script
	log    io.Writer // progress lines
	db     *sql.DB   // the stack's database, as root
	client *http.Client

	cached, noCache, bareHTTP, bareGRPC *stack.Proc
	procs                               []*stack.Proc // everything started, in order

	rep report.Report
}

// logf prints a progress line.
func (b *Env) logf(format string, args ...any) {
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
func (b *Env) prepare(ctx context.Context) error {
	var errs []error
	if _, err := os.Stat(b.cfg.Gintoki); err != nil {
		errs = append(errs, fmt.Errorf("gintoki binary: %w (run make build)", err))
	}
	if b.phases.Needs()&NeedWrk != 0 {
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
	if b.script, err = loadgen.WriteWrkScript(tmp); err != nil {
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
	b.rep.Machine = probe.ReadMachine(ctx, db)
	b.rep.Settings = b.settings()
	b.rep.Products = b.cfg.Products
	a = b.addrs
	b.rep.Ports = fmt.Sprintf("HTTP/gRPC: cached %s/%s, db-only %s/%s, bare %s/%s, 1M products %s/%s",
		a.HTTP, a.GRPC, a.NoCacheHTTP, a.NoCacheGR, a.BareHTTP, a.BareGRPC, a.MemHTTP, a.MemGRPC)
	return nil
}

// close stops every process the benchmark started, newest first, and
// removes the scratch directory.
func (b *Env) close() {
	for i := len(b.procs) - 1; i >= 0; i-- {
		if err := b.procs[i].Stop(15 * time.Second); err != nil {
			b.logf("stopping %s: %v", b.procs[i].Name(), err)
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
func (b *Env) stopProc(p *stack.Proc) {
	if p == nil {
		return
	}
	if err := p.Stop(15 * time.Second); err != nil {
		b.logf("stopping %s: %v", p.Name(), err)
	}
	b.procs = slices.DeleteFunc(b.procs, func(x *stack.Proc) bool { return x == p })
}

// serveArgs returns the command line of a `gintoki serve` process.
func (b *Env) serveArgs(httpAddr, grpcAddr string, extra ...string) []string {
	// --warm off: the phases fill the caches themselves and measure the
	// miss path of a cold node; a phase that measures the warm start says
	// --warm itself (a later flag wins).
	args := []string{b.cfg.Gintoki, "serve", "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
		"--log-level", "warn", "--brokers", b.cfg.Brokers, "--warm", "off"}
	return append(args, extra...)
}

// startService starts a process and records it for close.
func (b *Env) startService(name, logName string, argv ...string) (*stack.Proc, error) {
	p, err := stack.StartProc(name, filepath.Join(b.cfg.LogDir, logName), argv...)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	b.logf("started %s (pid %d): %s", name, p.PID(), strings.Join(argv, " "))
	return p, nil
}
