package main

import (
	"context"
	"math/rand/v2"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/internal/grpcraw"
	"github.com/gintoki/gintoki/inventory"
)

// BenchmarkGRPCBatch measures BatchGetInventory of 100 distinct cached ids
// over loopback TCP against a bare grpc-go server that frames the same
// pre-encoded bodies from a map (as `gintoki-bench bare-grpc` does), with no
// interceptor. Compare the sub-benchmarks' ns/op.
func BenchmarkGRPCBatch(b *testing.B) {
	svc, bodies, log := warmService(b, benchProducts, formatProto)
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
		Methods: []grpc.MethodDesc{{MethodName: "BatchGetInventory", Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			var req inventoryv1.BatchGetInventoryRequest
			if err := dec(&req); err != nil {
				return nil, err
			}
			var out []byte
			for _, id := range req.GetProductIds() {
				out = protowire.AppendTag(out, 1, protowire.BytesType)
				out = protowire.AppendBytes(out, bodies[inventory.ProductID(id)])
			}
			return grpcraw.Message(out), nil
		}}},
	}, struct{}{})
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([][]int64, 1024)
	for i := range batches {
		for _, p := range rng.Perm(benchProducts)[:100] {
			batches[i] = append(batches[i], int64(p+1))
		}
	}
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
			b.SetParallelism(8)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(batches))
				for pb.Next() {
					i++
					resp, err := client.BatchGetInventory(context.Background(), &inventoryv1.BatchGetInventoryRequest{ProductIds: batches[i%len(batches)]})
					if err != nil || len(resp.GetProducts()) != 100 {
						b.Errorf("%d products, err %v", len(resp.GetProducts()), err)
						return
					}
				}
			})
		})
	}
}
