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
	contenders := grpcContenders(b, 10_000, "GetInventory",
		func(bodies map[inventory.ProductID][]byte, dec func(any) error) (any, error) {
			var req inventoryv1.GetInventoryRequest
			if err := dec(&req); err != nil {
				return nil, err
			}
			return grpcraw.Message(bodies[inventory.ProductID(req.ProductId)]), nil
		})
	runGRPCContenders(b, contenders, 16, func() grpcCall {
		i := int64(0)
		return func(client inventoryv1.InventoryServiceClient) error {
			i++
			_, err := client.GetInventory(context.Background(), &inventoryv1.GetInventoryRequest{ProductId: i%10_000 + 1})
			return err
		}
	})
}

// grpcContender is one gRPC server a benchmark compares.
type grpcContender struct {
	name string
	srv  *grpc.Server
}

// grpcContenders returns the two servers the gRPC benchmarks compare:
// "bare", a grpc-go server with the raw codec and no interceptor whose one
// method of the inventory service, method, answers with bare over the
// pre-encoded bodies of n products; and "gintoki", the service's gRPC
// server over a cache warmed with the same n products.
func grpcContenders(b *testing.B, n int, method string, bare func(bodies map[inventory.ProductID][]byte, dec func(any) error) (any, error)) []grpcContender {
	b.Helper()
	svc, bodies, log := warmService(b, n, formatProto)
	gs, err := grpcapi.New(svc, grpcapi.Config{Format: formatProto}, log, nil).NewGRPCServer()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := grpcraw.NewCodec()
	if err != nil {
		b.Fatal(err)
	}
	bs := grpc.NewServer(grpc.ForceServerCodecV2(codec))
	bs.RegisterService(&grpc.ServiceDesc{
		ServiceName: inventoryv1.InventoryService_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: method, Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			return bare(bodies, dec)
		}}},
	}, struct{}{})
	return []grpcContender{{"bare", bs}, {"gintoki", gs}}
}

// grpcCall makes one call of a benchmark's loop.
type grpcCall func(client inventoryv1.InventoryServiceClient) error

// runGRPCContenders serves each contender on a loopback listener and runs
// parallelism goroutines per CPU against it, as a sub-benchmark named after
// it; each goroutine makes the calls of one newCall. The servers stop when
// it returns.
func runGRPCContenders(b *testing.B, contenders []grpcContender, parallelism int, newCall func() grpcCall) {
	b.Helper()
	for _, c := range contenders {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go c.srv.Serve(l)
		defer c.srv.Stop()
		conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		client := inventoryv1.NewInventoryServiceClient(conn)
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				call := newCall()
				for pb.Next() {
					if err := call(client); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
