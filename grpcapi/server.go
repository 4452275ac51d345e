package grpcapi

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/gintoki/gintoki/app"
	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/grpcraw"
	"github.com/gintoki/gintoki/internal/reqlatency"
	"github.com/gintoki/gintoki/inventory"
	"github.com/gintoki/gintoki/requestid"
)

// Server is the gRPC transport.
type Server struct {
	reader  app.Reader
	cfg     Config
	format  app.BodyFormat // the Service's format rendered by ProtoRenderer
	log     *slog.Logger
	ids     *requestid.Generator
	health  *health.Server
	latency *reqlatency.Histogram[observerKey]
	// okGet and okBatch observe successful calls of the two methods, which
	// need not even look up the latency's cached observers.
	okGet, okBatch prometheus.Observer
	// stale reports whether the node is behind its staleness bound; such
	// responses carry the trailer gintoki-stale: true.
	stale func() bool
}

// Config configures a Server.
type Config struct {
	Format app.BodyFormat // the Service's format rendered by ProtoRenderer
	Stale  func() bool    // optional
	// Reflection registers the server reflection service (grpcurl and
	// other tools list and call methods without the .proto files).
	Reflection bool
	// Limits bound what one client can hold.
	Limits Limits
}

// New returns a Server over reader.
func New(reader app.Reader, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Server {
	s := &Server{
		reader: reader, cfg: cfg, format: cfg.Format, log: log, ids: requestid.NewGenerator(),
		health: health.NewServer(), stale: cfg.Stale,
		latency: reqlatency.New("grpc", func(k observerKey) (string, string) { return k.method, k.code.String() }),
	}
	if s.stale == nil {
		s.stale = func() bool { return false }
	}
	s.okGet = s.latency.Observer(observerKey{inventoryv1.InventoryService_GetInventory_FullMethodName, codes.OK})
	s.okBatch = s.latency.Observer(observerKey{inventoryv1.InventoryService_BatchGetInventory_FullMethodName, codes.OK})
	if reg != nil {
		reg.MustRegister(s.latency.Collector())
	}
	return s
}

// streamWorkersPerProc sizes the pool of goroutines that serve calls.
const streamWorkersPerProc = 16

// NewGRPCServer returns a grpc.Server with the inventory service and health
// registered (reflection too if Config.Reflection), this Server's
// interceptor and codec, and Config.Limits enforced. opts come first, so
// they can add credentials but not undo the limits.
//
// Calls are served by a pool of long-lived goroutines (grpc.NumStreamWorkers,
// streamWorkersPerProc per GOMAXPROCS; a call that finds none idle gets a
// goroutine of its own, as by default). Without it every call starts a
// goroutine whose stack grows, and is copied, on the way down grpc-go's
// receive path: with the cache's arena in the heap the GC runs seldom, so the
// runtime's adaptive initial stack size stays small, and the copying took a
// fifth of the server's CPU under load.
func (s *Server) NewGRPCServer(opts ...grpc.ServerOption) (*grpc.Server, error) {
	codec, err := grpcraw.NewCodec()
	if err != nil {
		return nil, err
	}
	opts = append(opts, s.cfg.Limits.serverOptions()...)
	opts = append(opts, grpc.ForceServerCodecV2(codec), grpc.UnaryInterceptor(s.intercept),
		grpc.NumStreamWorkers(uint32(streamWorkersPerProc*runtime.GOMAXPROCS(0))))
	gs := grpc.NewServer(opts...)
	gs.RegisterService(&serviceDesc, s)
	healthpb.RegisterHealthServer(gs, s.health)
	if s.cfg.Reflection {
		reflection.Register(gs)
	}
	return gs, nil
}

// SetServing sets the health status of the whole server and the inventory
// service.
func (s *Server) SetServing(serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(inventoryv1.InventoryService_ServiceDesc.ServiceName, st)
}

// Shutdown marks every service NOT_SERVING for good.
func (s *Server) Shutdown() { s.health.Shutdown() }

// serviceDesc mirrors the generated InventoryService_ServiceDesc, with
// handlers that return pre-encoded bodies (grpcraw.Message) instead of messages.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: inventoryv1.InventoryService_ServiceDesc.ServiceName,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "GetInventory", Handler: handleGet},
		{MethodName: "BatchGetInventory", Handler: handleBatch},
	},
	Streams:  []grpc.StreamDesc{},
	Metadata: inventoryv1.InventoryService_ServiceDesc.Metadata,
}

func handleGet(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*Server)
	var req inventoryv1.GetInventoryRequest
	if err := dec(&req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "malformed request: %v", err)
	}
	call := func(ctx context.Context, _ any) (any, error) {
		body, stale, err := s.reader.Get(ctx, inventory.ProductID(req.GetProductId()), s.format, nil)
		if err != nil {
			return nil, toStatus(err)
		}
		if stale {
			_ = grpc.SetTrailer(ctx, staleTrailer)
		}
		return grpcraw.Message(body), nil
	}
	return interceptor(ctx, &req, &grpc.UnaryServerInfo{Server: srv, FullMethod: inventoryv1.InventoryService_GetInventory_FullMethodName}, call)
}

func handleBatch(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*Server)
	var req inventoryv1.BatchGetInventoryRequest
	if err := dec(&req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "malformed request: %v", err)
	}
	call := func(ctx context.Context, _ any) (any, error) {
		ids := make([]inventory.ProductID, len(req.GetProductIds()))
		for i, id := range req.GetProductIds() {
			ids[i] = inventory.ProductID(id)
		}
		res, err := s.reader.GetBatch(ctx, ids, s.format)
		if err != nil {
			return nil, toStatus(err)
		}
		if res.Stale {
			_ = grpc.SetTrailer(ctx, staleTrailer)
		}
		res = res.PerPosition(ids)
		size := 11 * len(res.NotFound)
		for _, b := range res.Bodies {
			size += len(b) + 3
		}
		return grpcraw.Message(appendBatch(make([]byte, 0, size), res)), nil
	}
	return interceptor(ctx, &req, &grpc.UnaryServerInfo{Server: srv, FullMethod: inventoryv1.InventoryService_BatchGetInventory_FullMethodName}, call)
}

// requestIDKey is the metadata key of the request id (lower case, as
// metadata keys are).
const requestIDKey = "x-request-id"

// staleTrailer marks a response from a node behind its staleness bound. It
// is only read by grpc-go.
var staleTrailer = metadata.MD{"gintoki-stale": []string{"true"}}

// intercept gives every call a request id (from metadata x-request-id, or
// new) returned in the response header, turns a panic into Internal and a
// log line, and records the call's latency.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	id := ""
	if v := metadata.ValueFromIncomingContext(ctx, requestIDKey); len(v) > 0 && requestid.Valid(v[0]) {
		id = v[0]
	}
	if id == "" {
		id = s.ids.New()
	}
	_ = grpc.SetHeader(ctx, metadata.MD{requestIDKey: []string{id}})
	if s.stale() {
		_ = grpc.SetTrailer(ctx, staleTrailer)
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in gRPC handler", "request_id", id, "method", info.FullMethod,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp, err = nil, status.Error(codes.Internal, "internal error")
		}
		code := status.Code(err)
		s.observer(info.FullMethod, code).Observe(time.Since(start).Seconds())
		if code == codes.Internal || code == codes.Unknown {
			s.log.Error("gRPC call failed", "request_id", id, "method", info.FullMethod, "err", err)
		}
	}()
	return handler(ctx, req)
}

// observerKey is what the latency histogram is labelled by.
type observerKey struct {
	method string
	code   codes.Code
}

func (s *Server) observer(method string, code codes.Code) prometheus.Observer {
	if code == codes.OK {
		switch method {
		case inventoryv1.InventoryService_GetInventory_FullMethodName:
			return s.okGet
		case inventoryv1.InventoryService_BatchGetInventory_FullMethodName:
			return s.okBatch
		}
	}
	return s.latency.Observer(observerKey{method, code})
}
