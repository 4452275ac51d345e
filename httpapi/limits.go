package httpapi

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"
)

// Limits bound what one client can hold on the HTTP server. Zero fields
// take net/http's defaults, which are unbounded for every timeout.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included: a client
	// sending its body at one byte a second is cut off when it ends.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response: a client that does not read its answer
	// does not hold the connection longer.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle for this long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
}

// NewHTTPServer returns an http.Server for s enforcing l, serving TLS with
// tlsConfig when it is not nil (through ServeTLS with empty file names),
// and logging connection-level errors to log at level Warn.
func (s *Server) NewHTTPServer(l Limits, tlsConfig *tls.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           s,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
