package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// stack is the system under test: a private MariaDB with binlog, the dev
// broker with a data directory, the relay, and the nodes, every one a real
// process on free ports with its own directories under dir.
type stack struct {
	dir        string
	bins       binaries
	cfg        config
	log        *slog.Logger
	dbPort     int
	brokerAddr string
	db, broker *proc
	relay      *proc
	relayAddr  string // the relay's metrics address
	nodes      []*node
	sql        *sql.DB // root on database inventory, for the writer and the checks
}

// node is one `gintoki serve` process.
type node struct {
	i         int
	proc      *proc
	http      string       // base URL
	client    *http.Client // bounded by the read timeout
	incarnate atomic.Int32 // incremented before each (re)start: readings of one incarnation only are compared
}

// binaries are the executables under test.
type binaries struct{ gintoki, devbroker string }

// buildBinaries builds gintoki and gintoki-devbroker into dir.
func buildBinaries(ctx context.Context, dir string) (binaries, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator),
		"github.com/gintoki/gintoki/cmd/gintoki", "github.com/gintoki/gintoki/cmd/gintoki-devbroker")
	if out, err := cmd.CombinedOutput(); err != nil {
		return binaries{}, fmt.Errorf("go build: %w\n%s", err, out)
	}
	return binaries{gintoki: filepath.Join(dir, "gintoki"), devbroker: filepath.Join(dir, "gintoki-devbroker")}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freeAddr() (string, error) {
	p, err := freePort()
	return "127.0.0.1:" + strconv.Itoa(p), err
}

// newStack prepares every process (nothing runs yet).
func newStack(dir string, bins binaries, cfg config, log *slog.Logger) (*stack, error) {
	s := &stack{dir: dir, bins: bins, cfg: cfg, log: log}
	var err error
	if s.dbPort, err = freePort(); err != nil {
		return nil, err
	}
	if s.brokerAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if s.relayAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	s.db = s.mariadbProc()
	s.broker = &proc{name: "broker", log: filepath.Join(dir, "broker.log"), args: []string{bins.devbroker,
		"--addr", s.brokerAddr, "--data-dir", filepath.Join(dir, "broker"), "--partitions", strconv.Itoa(cfg.Partitions)}}
	s.relay = &proc{name: "relay", log: filepath.Join(dir, "relay.log"), args: []string{bins.gintoki, "relay",
		"--db-addr", fmt.Sprintf("127.0.0.1:%d", s.dbPort), "--brokers", s.brokerAddr,
		"--checkpoint-file", filepath.Join(dir, "relay-checkpoint.json"), "--metrics-addr", s.relayAddr,
		"--topic-partitions", strconv.Itoa(cfg.Partitions)}}
	for i := range cfg.Nodes {
		httpAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		grpcAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args := []string{bins.gintoki, "serve", "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
			"--db-dsn", s.dsn(), "--brokers", s.brokerAddr, "--cache-bytes", strconv.Itoa(32 << 20),
			"--memory-headroom", strconv.Itoa(64 << 20)}
		args = append(args, cfg.boundFlags()...)
		n := &node{i: i, http: "http://" + httpAddr, client: &http.Client{
			Timeout:   cfg.ReadTimeout,
			Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Readers + 2},
		}}
		n.proc = &proc{name: fmt.Sprintf("node%d", i), log: filepath.Join(dir, fmt.Sprintf("node%d.log", i)), args: args}
		s.nodes = append(s.nodes, n)
	}
	return s, nil
}

// dsn is root on database inventory over TCP.
func (s *stack) dsn() string {
	c := mysql.NewConfig()
	c.User, c.Net, c.Addr, c.DBName = "root", "tcp", fmt.Sprintf("127.0.0.1:%d", s.dbPort), "inventory"
	c.Timeout, c.ReadTimeout, c.WriteTimeout = 2*time.Second, 5*time.Second, 5*time.Second
	c.MultiStatements = true
	return c.FormatDSN()
}

// start starts the database (seeded by seed), the broker, the relay and,
// after beforeNodes (nil: nothing), the nodes, each waited for.
func (s *stack) start(ctx context.Context, seed func(*sql.DB) error, beforeNodes func() error) error {
	if err := s.startDB(ctx); err != nil {
		return err
	}
	var err error
	if s.sql, err = sql.Open("mysql", s.dsn()); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if err := seed(s.sql); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	s.log.Info("database ready and seeded")
	if err := s.startBroker(); err != nil {
		return err
	}
	if err := s.startRelay(); err != nil {
		return err
	}
	s.log.Info("broker and relay ready")
	if beforeNodes != nil {
		if err := beforeNodes(); err != nil {
			return err
		}
	}
	for _, n := range s.nodes {
		if err := s.startNode(n); err != nil {
			return err
		}
	}
	for _, n := range s.nodes {
		if err := s.waitReady(n, 60*time.Second); err != nil {
			return err
		}
	}
	return nil
}

func (s *stack) startBroker() error {
	if err := s.broker.start(); err != nil {
		return err
	}
	return s.broker.waitFor(30*time.Second, "listener", func() error {
		c, err := net.DialTimeout("tcp", s.brokerAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

func (s *stack) startRelay() error {
	if err := s.relay.start(); err != nil {
		return err
	}
	// A standby is ready too: wait for the leader, whose stream is open, so
	// that a write made next is after where it starts reading.
	return s.relay.waitFor(60*time.Second, "/readyz leader", func() error { return relayLeading("http://" + s.relayAddr + "/readyz") })
}

// relayLeading returns nil once the relay's /readyz says it leads.
func relayLeading(url string) error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "leader") {
		return fmt.Errorf("%s: %s %q", url, resp.Status, body)
	}
	return nil
}

// startNode starts a new incarnation of n (not waiting for it).
func (s *stack) startNode(n *node) error {
	n.incarnate.Add(1)
	return n.proc.start()
}

func (s *stack) waitReady(n *node, timeout time.Duration) error {
	return n.proc.waitFor(timeout, "/readyz", func() error { return httpOK(n.http + "/readyz") })
}

func httpOK(url string) error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// stop stops everything, nodes first, each with SIGTERM.
func (s *stack) stop() {
	for _, n := range s.nodes {
		s.stopLogged(n.proc)
	}
	s.stopLogged(s.relay)
	s.stopLogged(s.broker)
	if s.sql != nil {
		s.sql.Close()
	}
	s.stopLogged(s.db)
}

func (s *stack) stopLogged(p *proc) {
	if err := p.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		s.log.Warn("stop", "process", p.name, "err", err)
	}
}

// logs returns each process's log file by process name.
func (s *stack) logs() map[string]string {
	m := map[string]string{"db": filepath.Join(s.dir, "db", "err.log"), "broker": s.broker.log, "relay": s.relay.log}
	for _, n := range s.nodes {
		m[n.proc.name] = n.proc.log
	}
	return m
}

// mkdir creates dir (and parents).
func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}
