package grpcapi

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gintoki/gintoki/app"
	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/inventory"
)

func TestProtoRendererMatchesGenerated(t *testing.T) {
	inv := inventory.Inventory{Product: 1 << 40, Warehouses: []inventory.WarehouseStock{{Code: "WH-AMS", Qty: 5}, {Code: "Ü", Qty: 0}, {Code: "X", Qty: -3}}}
	got := ProtoRenderer{}.AppendInventory(nil, &inv)
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(&inventoryv1.ProductInventory{
		ProductId: 1 << 40,
		Warehouses: []*inventoryv1.WarehouseStock{
			{WarehouseCode: "WH-AMS", QtySalable: 5}, {WarehouseCode: "Ü"}, {WarehouseCode: "X", QtySalable: -3},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("rendered %x\nwant     %x", got, want)
	}
	var batch inventoryv1.BatchGetInventoryResponse
	if err := proto.Unmarshal(appendBatch(nil, app.BatchResult{Bodies: [][]byte{got, got}, NotFound: []inventory.ProductID{3, 300}}), &batch); err != nil {
		t.Fatal(err)
	}
	if len(batch.Products) != 2 || batch.Products[1].Warehouses[2].QtySalable != -3 || len(batch.NotFound) != 2 || batch.NotFound[1] != 300 {
		t.Fatalf("batch decoded as %v", &batch)
	}
}

type fakeReader struct {
	get func(id inventory.ProductID) ([]byte, error)
}

func (f fakeReader) Get(_ context.Context, id inventory.ProductID, _ app.BodyFormat, dst []byte) ([]byte, bool, error) {
	b, err := f.get(id)
	return append(dst, b...), false, err
}

func (f fakeReader) GetBatch(context.Context, []inventory.ProductID, app.BodyFormat) (app.BatchResult, error) {
	return app.BatchResult{}, inventory.Errorf(inventory.CodeInvalid, "batch is empty")
}

func TestServerErrorsAndPanics(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewPedanticRegistry()
	body := ProtoRenderer{}.AppendInventory(nil, &inventory.Inventory{Product: 1})
	s := New(fakeReader{get: func(id inventory.ProductID) ([]byte, error) {
		switch id {
		case 1:
			return body, nil
		case 2:
			return nil, inventory.Errorf(inventory.CodeNotFound, "product 2 not found")
		case 3:
			return nil, inventory.Errorf(inventory.CodeUnavailable, "down")
		case 4:
			return nil, context.DeadlineExceeded
		}
		panic("boom")
	}}, Config{}, slog.New(slog.NewJSONHandler(&logs, nil)), reg)
	gs, err := s.NewGRPCServer()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(l)
	defer gs.Stop()
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := inventoryv1.NewInventoryServiceClient(conn)
	for id, want := range map[int64]codes.Code{1: codes.OK, 2: codes.NotFound, 3: codes.Unavailable, 4: codes.DeadlineExceeded, 5: codes.Internal} {
		_, err := client.GetInventory(context.Background(), &inventoryv1.GetInventoryRequest{ProductId: id})
		if status.Code(err) != want {
			t.Errorf("GetInventory(%d): %v, want %v", id, err, want)
		}
		if strings.Contains(status.Convert(err).Message(), "boom") {
			t.Errorf("panic text reached the client: %v", err)
		}
	}
	if _, err := client.BatchGetInventory(context.Background(), &inventoryv1.BatchGetInventoryRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("empty batch: %v", err)
	}
	if !strings.Contains(logs.String(), "panic in gRPC handler") {
		t.Errorf("panic not logged:\n%s", logs.String())
	}
	// The server still serves after the panic.
	if _, err := client.GetInventory(context.Background(), &inventoryv1.GetInventoryRequest{ProductId: 1}); err != nil {
		t.Fatal(err)
	}
	// Every call is counted by method and code.
	want := map[string]uint64{"GetInventory OK": 2, "GetInventory NotFound": 1, "GetInventory Unavailable": 1,
		"GetInventory DeadlineExceeded": 1, "GetInventory Internal": 1, "BatchGetInventory InvalidArgument": 1, "BatchGetInventory OK": 0}
	got := map[string]uint64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gintoki_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			method := labels["route"][strings.LastIndex(labels["route"], "/")+1:]
			got[method+" "+labels["code"]] = m.GetHistogram().GetSampleCount()
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("calls counted %v, want %v", got, want)
	}
}
