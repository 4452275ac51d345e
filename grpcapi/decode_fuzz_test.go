package grpcapi

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/gintoki/gintoki/app"
	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/grpcraw"
	"github.com/gintoki/gintoki/inventory"
)

// echoReader answers every valid id with a body and counts nothing: the
// fuzz target checks the decoding and the handlers around it.
type echoReader struct{}

func (echoReader) Get(_ context.Context, id inventory.ProductID, _ app.BodyFormat, dst []byte) ([]byte, bool, error) {
	if err := id.Validate(); err != nil {
		return dst, false, err
	}
	return ProtoRenderer{}.AppendInventory(dst, &inventory.Inventory{Product: id}), false, nil
}

func (echoReader) GetBatch(_ context.Context, ids []inventory.ProductID, _ app.BodyFormat) (app.BatchResult, error) {
	if len(ids) == 0 || len(ids) > 1000 {
		return app.BatchResult{}, inventory.Errorf(inventory.CodeInvalid, "bad batch size %d", len(ids))
	}
	var res app.BatchResult
	seen := map[inventory.ProductID]bool{}
	for _, id := range ids {
		if err := id.Validate(); err != nil {
			return app.BatchResult{}, err
		}
		if !seen[id] {
			seen[id] = true
			res.Bodies = append(res.Bodies, ProtoRenderer{}.AppendInventory(nil, &inventory.Inventory{Product: id}))
		}
	}
	return res, nil
}

// FuzzDecodeRequest feeds request bytes through the server's codec and
// both method handlers, as grpc-go does for a call. A request decodes to
// what the generated code decodes, and a call answers a response that
// decodes, or a status with a code the API documents; never a panic.
func FuzzDecodeRequest(f *testing.F) {
	get, _ := proto.Marshal(&inventoryv1.GetInventoryRequest{ProductId: 42})
	batch, _ := proto.Marshal(&inventoryv1.BatchGetInventoryRequest{ProductIds: []int64{1, 2, 2, 1 << 40}})
	f.Add(get)
	f.Add(batch)
	f.Add([]byte{})
	f.Add(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1<<63))       // a negative id
	f.Add(protowire.AppendTag(nil, 1, protowire.BytesType))                                       // truncated
	f.Add(append(protowire.AppendTag(nil, 1, protowire.BytesType), 0xff, 0xff, 0xff, 0xff, 0x0f)) // huge length
	f.Add(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 7))           // unpacked repeated
	codec, err := grpcraw.NewCodec()
	if err != nil {
		f.Fatal(err)
	}
	s := New(echoReader{}, Config{}, slog.New(slog.DiscardHandler), nil)
	pass := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(ctx, req)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := func(v any) error { return codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, v) }
		// The codec decodes as the generated code does.
		for _, m := range []proto.Message{&inventoryv1.GetInventoryRequest{}, &inventoryv1.BatchGetInventoryRequest{}} {
			want := m.ProtoReflect().New().Interface()
			werr := proto.Unmarshal(data, want)
			gerr := dec(m)
			if (gerr == nil) != (werr == nil) || gerr == nil && !proto.Equal(m, want) {
				t.Fatalf("%T: codec %v (%v), proto.Unmarshal %v (%v)", m, m, gerr, want, werr)
			}
		}
		for name, h := range map[string]func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error){
			"get": handleGet, "batch": handleBatch,
		} {
			resp, err := h(s, context.Background(), dec, pass)
			if err != nil {
				if c := status.Code(err); c != codes.InvalidArgument {
					t.Fatalf("%s: %v", name, err)
				}
				continue
			}
			raw, ok := resp.(grpcraw.Message)
			if !ok {
				t.Fatalf("%s: response %T", name, resp)
			}
			var out proto.Message = &inventoryv1.ProductInventory{}
			if name == "batch" {
				out = &inventoryv1.BatchGetInventoryResponse{}
			}
			if err := proto.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s: the response does not decode: %v", name, err)
			}
			if b, ok := out.(*inventoryv1.BatchGetInventoryResponse); ok {
				var req inventoryv1.BatchGetInventoryRequest
				_ = dec(&req)
				if len(b.Products)+len(b.NotFound) != len(req.ProductIds) {
					t.Fatalf("batch of %d ids answered %d products and %d not found", len(req.ProductIds), len(b.Products), len(b.NotFound))
				}
			}
		}
	})
}
