package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/tlsconfig"
)

// apiConfig is how `gintoki serve` exposes its listeners: TLS, the limits
// on what a client can hold, the surface (reflection, the admin address)
// and where the database password comes from.
type apiConfig struct {
	TLS            tlsconfig.Files
	TLSReload      time.Duration
	HTTP           httpapi.Limits
	MaxBodyBytes   int64
	GRPC           grpcapi.Limits // MaxConcurrentStreams comes from GRPCStreams
	GRPCStreams    uint
	GRPCReflection bool
	AdminAddr      string
	DBPasswordFile string
}

// Defaults of the limits, also documented in the README's "Operating it".
const (
	defaultReadHeaderTimeout = 5 * time.Second
	defaultReadTimeout       = 10 * time.Second
	defaultWriteTimeout      = 10 * time.Second
	defaultIdleTimeout       = 2 * time.Minute
	defaultMaxHeaderBytes    = 64 << 10
	defaultMaxBodyBytes      = 1 << 20
	defaultGRPCStreams       = 1000
	defaultGRPCRecvBytes     = 1 << 20
)

func (c *apiConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.TLS.CertFile, "tls-cert-file", "", "PEM certificate chain: serve HTTPS and gRPC over TLS (needs --tls-key-file; empty: plaintext)")
	fs.StringVar(&c.TLS.KeyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	fs.StringVar(&c.TLS.ClientCAFile, "tls-client-ca-file", "", "PEM CA bundle: require every client to present a certificate signed by one of these CAs (mutual TLS; empty: no client certificates)")
	fs.DurationVar(&c.TLSReload, "tls-reload-interval", 10*time.Second, "how often the TLS files are checked for changes; changed files are used by new connections without a restart")
	fs.DurationVar(&c.HTTP.ReadHeaderTimeout, "http-read-header-timeout", defaultReadHeaderTimeout, "time limit for reading a request's headers")
	fs.DurationVar(&c.HTTP.ReadTimeout, "http-read-timeout", defaultReadTimeout, "time limit for reading a whole request, body included (a slow body is cut off)")
	fs.DurationVar(&c.HTTP.WriteTimeout, "http-write-timeout", defaultWriteTimeout, "time limit from the end of a request's headers to the end of its response")
	fs.DurationVar(&c.HTTP.IdleTimeout, "http-idle-timeout", defaultIdleTimeout, "idle keep-alive connections are closed after this long")
	fs.IntVar(&c.HTTP.MaxHeaderBytes, "http-max-header-bytes", defaultMaxHeaderBytes, "largest request line and headers, in bytes")
	fs.Int64Var(&c.MaxBodyBytes, "http-max-body-bytes", defaultMaxBodyBytes, "largest batch request body, in bytes")
	fs.UintVar(&c.GRPCStreams, "grpc-max-concurrent-streams", defaultGRPCStreams, "most gRPC calls in progress on one connection")
	fs.IntVar(&c.GRPC.MaxRecvMsgBytes, "grpc-max-recv-bytes", defaultGRPCRecvBytes, "largest gRPC request message, in bytes")
	fs.DurationVar(&c.GRPC.ConnectionTimeout, "grpc-connection-timeout", 5*time.Second, "time limit for a new gRPC connection's TLS and HTTP/2 handshakes")
	fs.DurationVar(&c.GRPC.MaxConnectionIdle, "grpc-max-connection-idle", 5*time.Minute, "gRPC connections without calls are closed (GOAWAY) after this long")
	fs.DurationVar(&c.GRPC.KeepaliveTime, "grpc-keepalive-time", time.Minute, "the server pings a gRPC connection silent for this long")
	fs.DurationVar(&c.GRPC.KeepaliveTimeout, "grpc-keepalive-timeout", 20*time.Second, "and closes it if the ping is not answered within this")
	fs.DurationVar(&c.GRPC.KeepaliveMinTime, "grpc-keepalive-min-time", 30*time.Second, "clients pinging more often than this, or without calls in progress, are disconnected (GOAWAY too_many_pings)")
	fs.BoolVar(&c.GRPCReflection, "grpc-reflection", true, "serve gRPC server reflection (lets grpcurl list and call methods; turn off to hide the API's shape)")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "listen address for /debug/pprof/ (empty: off); keep it private, e.g. 127.0.0.1:6060, never the public address")
	fs.StringVar(&c.DBPasswordFile, "db-password-file", "", "file holding the database password, which replaces any password in --db-dsn (one trailing newline is ignored)")
}

func (c *apiConfig) validate() error {
	var errs []error
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-key-file go together"))
	}
	if c.TLS.ClientCAFile != "" && c.TLS.CertFile == "" {
		errs = append(errs, errors.New("--tls-client-ca-file needs --tls-cert-file and --tls-key-file"))
	}
	if c.TLS.CertFile != "" && c.TLSReload <= 0 {
		errs = append(errs, errors.New("--tls-reload-interval must be positive"))
	}
	for name, d := range map[string]time.Duration{
		"--http-read-header-timeout": c.HTTP.ReadHeaderTimeout, "--http-read-timeout": c.HTTP.ReadTimeout,
		"--http-write-timeout": c.HTTP.WriteTimeout, "--http-idle-timeout": c.HTTP.IdleTimeout,
		"--grpc-connection-timeout": c.GRPC.ConnectionTimeout, "--grpc-max-connection-idle": c.GRPC.MaxConnectionIdle,
		"--grpc-keepalive-time": c.GRPC.KeepaliveTime, "--grpc-keepalive-timeout": c.GRPC.KeepaliveTimeout,
		"--grpc-keepalive-min-time": c.GRPC.KeepaliveMinTime,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	if c.GRPCStreams == 0 || c.GRPCStreams > math.MaxUint32 {
		errs = append(errs, errors.New("--grpc-max-concurrent-streams must be between 1 and 4294967295"))
	}
	if c.HTTP.MaxHeaderBytes <= 0 || c.MaxBodyBytes <= 0 || c.GRPC.MaxRecvMsgBytes <= 0 {
		errs = append(errs, errors.New("--http-max-header-bytes, --http-max-body-bytes and --grpc-max-recv-bytes must be positive"))
	}
	return errors.Join(errs...)
}

// defaultAPIConfig returns the configuration the flags' defaults give.
func defaultAPIConfig() apiConfig {
	var c apiConfig
	fs := flag.NewFlagSet("defaults", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.flags(fs)
	return c
}

// grpcLimits returns the gRPC server's limits.
func (c *apiConfig) grpcLimits() grpcapi.Limits {
	l := c.GRPC
	l.MaxConcurrentStreams = uint32(c.GRPCStreams) // validate bounds it
	return l
}

// tlsReloader loads the TLS files, or returns nil without TLS.
func (c *apiConfig) tlsReloader(log *slog.Logger) (*tlsconfig.Reloader, error) {
	if c.TLS.CertFile == "" {
		return nil, nil
	}
	return tlsconfig.New(c.TLS, log)
}

// grpcServerOptions returns the gRPC server's transport credentials: TLS
// from r, or none (plaintext) when r is nil.
func grpcServerOptions(r *tlsconfig.Reloader) []grpc.ServerOption {
	if r == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(r.ServerConfig()))}
}
