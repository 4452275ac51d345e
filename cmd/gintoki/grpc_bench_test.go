package main

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/internal/grpcraw"
	"github.com/gintoki/gintoki/inventory"
)

// BenchmarkGRPCHitPath measures a cached GetInventory over loopback TCP
// against a bare grpc-go server returning the same bytes from a map, with
// no interceptor. Compare the sub-benchmarks' ns/op.
func BenchmarkGRPCHitPath(b *testing.B) {
	svc, bodies, log := warmService(b, 10_000, formatProto)
	gs, err := grpcapi.New(svc, grpcapi.Config{Format: formatProto}, log, nil).NewGRPCServer()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := grpcraw.NewCodec()
	if err != nil {
		b.Fatal(err)
	}
	bare := grpc.NewServer(grpc.ForceServerCodecV2(codec))
	bare.RegisterService(&grpc.ServiceDesc{
		ServiceName: inventoryv1.InventoryService_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "GetInventory", Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			var req inventoryv1.GetInventoryRequest
			if err := dec(&req); err != nil {
				return nil, err
			}
			return grpcraw.Message(bodies[inventory.ProductID(req.ProductId)]), nil
		}}},
	}, struct{}{})
	for _, bc := range []struct {
		name string
		srv  *grpc.Server
	}{{"bare", bare}, {"gintoki", gs}} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go bc.srv.Serve(l)
		defer bc.srv.Stop()
		conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		client := inventoryv1.NewInventoryServiceClient(conn)
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(16)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int64(0)
				for pb.Next() {
					i++
					if _, err := client.GetInventory(context.Background(), &inventoryv1.GetInventoryRequest{ProductId: i%10_000 + 1}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
