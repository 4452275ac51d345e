package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/flagenv"
	"github.com/gintoki/gintoki/internal/grpcraw"
)

// runBareGRPC is `gintoki-bench bare-grpc`: the gRPC baseline. It serves
// InventoryService from the pre-encoded protobuf bodies the orchestrator
// fetched from the service, written as they are by a raw-bytes codec (as
// grpcapi does), with no interceptor, cache or metrics.
func runBareGRPC(ctx context.Context, args []string, stderr io.Writer) error {
	env := benchEnv(flagenv.Map(nil)) // the bare servers take flags only
	fs := newFlagSet("bare-grpc", env, stderr)
	addr := fs.String("addr", "127.0.0.1:19092", "listen address")
	path := fs.String("bodies", "", "bodies file written by the orchestrator")
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	bodies, err := readBodies(*path)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("bare-grpc: %w", err)
	}
	return serveBareGRPC(ctx, ln, bodies)
}

// serveBareGRPC serves on ln until ctx ends.
func serveBareGRPC(ctx context.Context, ln net.Listener, bodies map[int64][]byte) error {
	codec, err := grpcraw.NewCodec()
	if err != nil {
		return err
	}
	srv := grpc.NewServer(grpc.ForceServerCodecV2(codec))
	srv.RegisterService(&bareServiceDesc, bareGRPC{bodies: bodies})
	healthpb.RegisterHealthServer(srv, health.NewServer()) // SERVING
	go func() {
		<-ctx.Done()
		srv.GracefulStop()
	}()
	if err := srv.Serve(ln); err != nil {
		return fmt.Errorf("bare-grpc: %w", err)
	}
	return nil
}

// bareGRPC answers from bodies; it is read-only, so safe for concurrent use.
type bareGRPC struct {
	bodies map[int64][]byte
}

// bareServiceDesc mirrors the generated InventoryService_ServiceDesc with
// handlers that return grpcraw.Message values.
var bareServiceDesc = grpc.ServiceDesc{
	ServiceName: inventoryv1.InventoryService_ServiceDesc.ServiceName,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "GetInventory", Handler: bareGet},
		{MethodName: "BatchGetInventory", Handler: bareBatch},
	},
	Metadata: inventoryv1.InventoryService_ServiceDesc.Metadata,
}

func bareGet(srv any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var req inventoryv1.GetInventoryRequest
	if err := dec(&req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "malformed request: %v", err)
	}
	body, ok := srv.(bareGRPC).bodies[req.GetProductId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "product %d not found", req.GetProductId())
	}
	return grpcraw.Message(body), nil
}

func bareBatch(srv any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var req inventoryv1.BatchGetInventoryRequest
	if err := dec(&req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "malformed request: %v", err)
	}
	return grpcraw.Message(appendBareBatch(nil, srv.(bareGRPC).bodies, req.GetProductIds())), nil
}

// appendBareBatch encodes a BatchGetInventoryResponse from pre-encoded
// product bodies, as grpcapi does: products (field 1) in request order,
// then the unknown ids packed (field 2). Callers send distinct ids.
func appendBareBatch(b []byte, bodies map[int64][]byte, ids []int64) []byte {
	var missing []int64
	for _, id := range ids {
		body, ok := bodies[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, body)
	}
	if len(missing) > 0 {
		size := 0
		for _, id := range missing {
			size += protowire.SizeVarint(uint64(id))
		}
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		for _, id := range missing {
			b = protowire.AppendVarint(b, uint64(id))
		}
	}
	return b
}
