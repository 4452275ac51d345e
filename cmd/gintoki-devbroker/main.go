// Command gintoki-devbroker runs a single-node Kafka-protocol broker for
// development and tests, without Java: franz-go's kfake, with topics
// created on first use and its state (topics, records, group offsets) kept
// in a data directory across restarts. It is not a production broker.
//
// Usage:
//
//	gintoki-devbroker [--addr 127.0.0.1:9092] [--data-dir .local/broker] [--partitions 6]
//	                  [--tls-cert-file F --tls-key-file F [--tls-client-ca-file F]]
//	                  [--sasl-user U (--sasl-password-file F | $GINTOKI_DEVBROKER_SASL_PASSWORD)]
//
// With --tls-cert-file it speaks only TLS; with --sasl-user it requires
// SASL authentication as that user, by PLAIN, SCRAM-SHA-256 or
// SCRAM-SHA-512, so that clients' managed-Kafka settings can be tried
// locally.
//
// Every flag has an environment fallback: --data-dir is
// GINTOKI_DEVBROKER_DATA_DIR. It stops, saving its state, on SIGINT or
// SIGTERM.
//
// It imports kfake and internal/flagenv, no production package; nothing
// imports it.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

	"github.com/gintoki/gintoki/internal/flagenv"
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

	TLSCertFile, TLSKeyFile string // the broker's certificate: TLS only when set
	TLSClientCAFile         string // verify client certificates against it when given
	SASLUser                string // "" : no SASL
	SASLPasswordFile        string
	// SASLPassword is read from the file, or from
	// $GINTOKI_DEVBROKER_SASL_PASSWORD: never from a flag.
	SASLPassword string
}

// envSASLPassword holds the SASL password when no file is given.
const envSASLPassword = "GINTOKI_DEVBROKER_SASL_PASSWORD"

// flagEnv is the environment of the broker's flags: --data-dir is
// GINTOKI_DEVBROKER_DATA_DIR.
func flagEnv(lookup func(string) (string, bool)) flagenv.Env {
	return flagenv.Env{Prefix: "GINTOKI_DEVBROKER_", Lookup: lookup}
}

// parseConfig parses args; a flag not given takes its value from the
// environment when set there. Command-line flags win.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	cfg := config{}
	env := flagEnv(lookupEnv)
	fs := flag.NewFlagSet("gintoki-devbroker", flag.ContinueOnError)
	env.SetUsage(fs, stderr, "Usage: gintoki-devbroker [flags]\n\nA development Kafka broker (franz-go's kfake).\n")
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9092", "address to listen on; the host must be 127.0.0.1 or localhost, port 0 picks a free one")
	fs.StringVar(&cfg.DataDir, "data-dir", ".local/broker", "directory keeping topics, records and group offsets across restarts; empty keeps them in memory")
	fs.IntVar(&cfg.Partitions, "partitions", 6, "number of partitions of automatically created topics")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert-file", "", "PEM certificate of the broker: with it, the broker speaks TLS only")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key-file", "", "PEM key of --tls-cert-file")
	fs.StringVar(&cfg.TLSClientCAFile, "tls-client-ca-file", "", "PEM authorities: with it, clients must present a certificate they signed (mutual TLS)")
	fs.StringVar(&cfg.SASLUser, "sasl-user", "", "require SASL (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) as this user (empty: no SASL)")
	fs.StringVar(&cfg.SASLPasswordFile, "sasl-password-file", "", "file holding the SASL user's password; without it the password is read from $"+envSASLPassword)
	if err := env.Parse(fs, args); err != nil {
		return cfg, err
	}
	if cfg.Partitions < 1 {
		return cfg, fmt.Errorf("--partitions %d: must be at least 1", cfg.Partitions)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return cfg, errors.New("--tls-cert-file and --tls-key-file go together")
	}
	if cfg.TLSClientCAFile != "" && cfg.TLSCertFile == "" {
		return cfg, errors.New("--tls-client-ca-file needs --tls-cert-file")
	}
	if cfg.SASLUser != "" {
		if cfg.SASLPasswordFile != "" {
			b, err := os.ReadFile(cfg.SASLPasswordFile)
			if err != nil {
				return cfg, fmt.Errorf("--sasl-password-file: %w", err)
			}
			cfg.SASLPassword = strings.TrimRight(string(b), "\r\n")
		} else {
			cfg.SASLPassword, _ = lookupEnv(envSASLPassword)
		}
		if cfg.SASLPassword == "" {
			return cfg, fmt.Errorf("--sasl-user %s needs a password: --sasl-password-file or $%s", cfg.SASLUser, envSASLPassword)
		}
	} else if cfg.SASLPasswordFile != "" {
		return cfg, errors.New("--sasl-password-file needs --sasl-user")
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
	security, err := cfg.securityOpts()
	if err != nil {
		return err
	}
	opts = append(opts, security...)
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
		"addr", addrs[0], "data_dir", dataDir, "partitions", cfg.Partitions,
		"tls", cfg.TLSCertFile != "", "sasl_user", cfg.SASLUser)
	<-ctx.Done()
	return nil
}

// securityOpts returns the kfake options for TLS and SASL.
func (c config) securityOpts() ([]kfake.Opt, error) {
	var opts []kfake.Opt
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert-file/--tls-key-file: %w", err)
		}
		tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if c.TLSClientCAFile != "" {
			pem, err := os.ReadFile(c.TLSClientCAFile)
			if err != nil {
				return nil, fmt.Errorf("--tls-client-ca-file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--tls-client-ca-file %s: no PEM certificate in it", c.TLSClientCAFile)
			}
			tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		opts = append(opts, kfake.TLS(tc))
	}
	if c.SASLUser != "" {
		opts = append(opts, kfake.EnableSASL())
		for _, m := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
			opts = append(opts, kfake.Superuser(m, c.SASLUser, c.SASLPassword))
		}
	}
	return opts, nil
}

// listensOn reports whether addr is 127.0.0.1 on port (any port if 0).
func listensOn(addr string, port int) bool {
	host, p, err := net.SplitHostPort(addr)
	return err == nil && host == "127.0.0.1" && (port == 0 || p == strconv.Itoa(port))
}
