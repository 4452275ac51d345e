// Package httpapi serves the inventory API over HTTP/JSON, in the same
// process as the gRPC API and over the same use case (no extra hop), plus
// /metrics, /healthz, /readyz and the OpenAPI description. Bodies come
// pre-encoded from the cache: a hit costs a lookup and a write of bytes.
//
// It imports the domain, app's ports, requestid and internal/reqlatency;
// never another adapter, nor the generated protobuf code.
package httpapi

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/internal/reqlatency"
	"github.com/gintoki/gintoki/inventory"
	"github.com/gintoki/gintoki/requestid"
)

// Config configures a Server.
type Config struct {
	Format app.BodyFormat // the Service's format rendered by JSONRenderer
	// MaxBodyBytes bounds a batch request body (default 1 MiB).
	MaxBodyBytes int64
	// AccessLogEvery logs one request in N (0: access logging off). Error
	// responses (5xx) are always logged.
	AccessLogEvery uint64
	// Ready reports whether the node should receive traffic; nil means
	// always. /readyz answers only "ready", "warming" (the error is
	// app.ErrWarming) or "not ready": the error's text, which may name
	// internal hosts, goes to the log (when the node becomes not ready,
	// then at most every 10 s), not to the public port.
	Ready func(context.Context) error
	// Stale reports whether the node is behind its staleness bound; such
	// responses carry X-Gintoki-Stale: true. nil means never.
	Stale func() bool
	// Gatherer serves /metrics (nil: no /metrics route).
	Gatherer prometheus.Gatherer
}

// Server is the HTTP transport.
type Server struct {
	reader   app.Reader
	cfg      Config
	log      *slog.Logger
	ids      *requestid.Generator
	mux      *http.ServeMux
	latency  *reqlatency.Histogram[observerKey]
	requests atomic.Uint64
	bufs     sync.Pool // *[]byte response buffers
	// routes lists the registered routes as "METHOD /path" (the OpenAPI
	// test compares them with the description).
	routes []string
	// readyMu guards notReady and loggedAt: /readyz logs the reason when
	// the node becomes not ready, then at most every readyLogEvery, so a
	// probe every few seconds does not log every time.
	readyMu  sync.Mutex
	notReady bool
	loggedAt time.Time
}

// observerKey is what the latency histogram is labelled by.
type observerKey struct {
	route  string
	status int
}

var (
	jsonContentType = []string{"application/json"}
	staleValue      = []string{"true"}
)

//go:embed openapi.yaml
var openAPI []byte

// New returns a Server over reader.
func New(reader app.Reader, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}
	if cfg.Stale == nil {
		cfg.Stale = func() bool { return false }
	}
	s := &Server{
		reader: reader, cfg: cfg, log: log, ids: requestid.NewGenerator(), mux: http.NewServeMux(),
		latency: reqlatency.New("http", func(k observerKey) (string, string) { return k.route, strconv.Itoa(k.status) }),
	}
	s.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	if reg != nil {
		reg.MustRegister(s.latency.Collector())
	}
	s.handleRoute("GET /v1/products/{product_id}/inventory", s.route("get_inventory", s.handleGet))
	s.handleRoute("GET /cache", s.route("cache", s.handleCache))
	s.handleRoute("POST /v1/inventory:batchGet", s.route("batch_get_inventory", s.handleBatch))
	s.handle("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	s.handle("GET /readyz", s.handleReady)
	s.handle("GET /openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPI)
	})
	if cfg.Gatherer != nil {
		s.handleRoute("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.Handle("/", s.route("not_found", s.handleNoRoute))
	return s
}

// handleRoute registers h for pattern ("METHOD /path").
func (s *Server) handleRoute(pattern string, h http.Handler) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, h)
}

// handle registers a plain handler function for pattern.
func (s *Server) handle(pattern string, h http.HandlerFunc) { s.handleRoute(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type handler func(w http.ResponseWriter, r *http.Request, reqID string) (status int)

// route wraps an API handler: request id in and out, panic to 500, latency
// metric, sampled access log.
func (s *Server) route(name string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestid.Header)
		if !requestid.Valid(id) {
			id = s.ids.New()
		}
		hdr := w.Header()
		hdr[requestid.Header] = []string{id}
		if s.cfg.Stale() {
			hdr["X-Gintoki-Stale"] = staleValue
		}
		status := http.StatusInternalServerError
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in HTTP handler", "request_id", id, "route", name,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				status = writeError(w, inventory.Errorf(inventory.CodeInternal, "internal error"))
			}
			d := time.Since(start)
			s.latency.Observer(observerKey{name, status}).Observe(d.Seconds())
			if n := s.cfg.AccessLogEvery; status >= 500 || n > 0 && s.requests.Add(1)%n == 0 {
				s.log.Info("http request", "request_id", id, "route", name, "method", r.Method,
					"path", r.URL.Path, "status", status, "duration_ms", float64(d.Microseconds())/1000)
			}
		}()
		status = h(w, r, id)
	})
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, reqID string) int {
	id, err := parseProductID(r.PathValue("product_id"))
	if err != nil {
		return writeError(w, err)
	}
	return s.writeOne(w, r, id, reqID)
}

// handleCache serves the original route, GET /cache?product_id=N, with the
// same body as GET /v1/products/N/inventory.
func (s *Server) handleCache(w http.ResponseWriter, r *http.Request, reqID string) int {
	id, err := queryProductID(r.URL.RawQuery)
	if err != nil {
		return writeError(w, err)
	}
	return s.writeOne(w, r, id, reqID)
}

func (s *Server) writeOne(w http.ResponseWriter, r *http.Request, id inventory.ProductID, reqID string) int {
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	body, stale, err := s.reader.Get(r.Context(), id, s.cfg.Format, (*bp)[:0])
	*bp = body[:0]
	if err != nil {
		return s.fail(w, err, reqID)
	}
	w.Header()["Content-Type"] = jsonContentType
	if stale {
		w.Header()["X-Gintoki-Stale"] = staleValue
	}
	_, _ = w.Write(body)
	return http.StatusOK
}

// fail writes an error response, logging the ones that are the server's
// fault.
func (s *Server) fail(w http.ResponseWriter, err error, reqID string) int {
	st := writeError(w, err)
	if st >= 500 {
		s.log.Warn("request failed", "request_id", reqID, "status", st, "err", err)
	}
	return st
}

// readyLogEvery is the shortest interval between two "not ready" log lines
// while the node stays not ready.
const readyLogEvery = 10 * time.Second

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	err := s.cfg.Ready(ctx)
	s.readyMu.Lock()
	switch {
	case err != nil && (!s.notReady || time.Since(s.loggedAt) >= readyLogEvery):
		s.log.Warn("not ready", "reason", err.Error())
		s.loggedAt = time.Now()
	case err == nil && s.notReady:
		s.log.Info("ready")
	}
	s.notReady = err != nil
	s.readyMu.Unlock()
	switch {
	case errors.Is(err, app.ErrWarming):
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "warming\n")
		return
	case err != nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}
