package stack

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/grpcraw"
)

// ServeBareGRPC serves on ln until ctx ends.
func ServeBareGRPC(ctx context.Context, ln net.Listener, bodies map[int64][]byte) error {
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
