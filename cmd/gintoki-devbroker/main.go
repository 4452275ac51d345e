// Command gintoki-devbroker runs a single-node Kafka-protocol broker for
// development and tests, without Java: franz-go's kfake, with topics
// created on first use and its state (topics, records, group offsets) kept
// in a data directory across restarts. It is not a production broker.
//
// Usage:
//
//	gintoki-devbroker [--addr 127.0.0.1:9092] [--data-dir .local/broker] [--partitions 6]
//
// Every flag has an environment fallback: --data-dir is
// GINTOKI_DEVBROKER_DATA_DIR. It stops, saving its state, on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "gintoki-devbroker:", err)
		os.Exit(1)
	}
}

// config is the broker's configuration, from flags and the environment.
type config struct {
	Addr       string // host:port; kfake listens on 127.0.0.1 only
	DataDir    string // "" keeps everything in memory
	Partitions int    // partitions of auto-created topics
}

// envName maps a flag name to its environment variable:
// data-dir → GINTOKI_DEVBROKER_DATA_DIR.
func envName(flagName string) string {
	return "GINTOKI_DEVBROKER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig parses args; a flag not given takes its value from the
// environment when set there. Command-line flags win.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("gintoki-devbroker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9092", "address to listen on; the host must be 127.0.0.1 or localhost, port 0 picks a free one")
	fs.StringVar(&cfg.DataDir, "data-dir", ".local/broker", "directory keeping topics, records and group offsets across restarts; empty keeps them in memory")
	fs.IntVar(&cfg.Partitions, "partitions", 6, "number of partitions of automatically created topics")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gintoki-devbroker [flags]\n\nA development Kafka broker (franz-go's kfake).\n\nFlags (each also read from the environment variable shown):\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s  [$%s] (default %q)\n      %s\n", f.Name, envName(f.Name), f.DefValue, f.Usage)
		})
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := lookupEnv(envName(f.Name)); ok && !set[f.Name] && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("$%s: %w", envName(f.Name), e)
			}
		}
	})
	if err != nil {
		return cfg, err
	}
	if cfg.Partitions < 1 {
		return cfg, fmt.Errorf("--partitions %d: must be at least 1", cfg.Partitions)
	}
	if _, err := cfg.port(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// port returns the port of Addr, checking that its host is one kfake can
// listen on.
func (c config) port() (int, error) {
	host, portStr, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return 0, fmt.Errorf("--addr %q: %w", c.Addr, err)
	}
	if host != "127.0.0.1" && host != "localhost" {
		return 0, fmt.Errorf("--addr %q: kfake listens on 127.0.0.1 only", c.Addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("--addr %q: bad port", c.Addr)
	}
	return port, nil
}

// run starts the broker and serves until ctx ends, then closes it, which
// saves its state to the data directory.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	cfg, err := parseConfig(args, lookupEnv, stderr)
	if err != nil {
		return err
	}
	port, _ := cfg.port() // checked by parseConfig
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.AllowAutoTopicCreation(),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start broker on %s: %w", cfg.Addr, err)
	}
	defer cluster.Close()

	// kfake picks the host itself; make sure it listens where asked.
	addrs := cluster.ListenAddrs()
	if len(addrs) != 1 || !listensOn(addrs[0], port) {
		return fmt.Errorf("broker listens on %q, not %s", addrs, cfg.Addr)
	}

	dataDir := cfg.DataDir
	if dataDir == "" {
		dataDir = "(memory)"
	}
	slog.New(slog.NewTextHandler(stderr, nil)).Info("dev broker listening",
		"addr", addrs[0], "data_dir", dataDir, "partitions", cfg.Partitions)
	<-ctx.Done()
	return nil
}

// listensOn reports whether addr is 127.0.0.1 on port (any port if 0).
func listensOn(addr string, port int) bool {
	host, p, err := net.SplitHostPort(addr)
	return err == nil && host == "127.0.0.1" && (port == 0 || p == strconv.Itoa(port))
}
