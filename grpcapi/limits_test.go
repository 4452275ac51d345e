package grpcapi

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/gintoki/gintoki/app"
	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/inventory"
)

// start serves s on a fresh listener and returns a client connection.
func start(t *testing.T, s *Server) *grpc.ClientConn {
	t.Helper()
	gs, err := s.NewGRPCServer()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(l)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestReflectionFlag(t *testing.T) {
	for _, on := range []bool{false, true} {
		conn := start(t, New(fakeReader{}, Config{Reflection: on}, slog.New(slog.DiscardHandler), nil))
		stream, err := grpc_reflection_v1.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
		if err == nil {
			// A refused stream shows its status on Recv (Send sees io.EOF).
			_ = stream.Send(&grpc_reflection_v1.ServerReflectionRequest{MessageRequest: &grpc_reflection_v1.ServerReflectionRequest_ListServices{}})
		}
		var resp *grpc_reflection_v1.ServerReflectionResponse
		if err == nil {
			resp, err = stream.Recv()
		}
		switch {
		case on && err != nil:
			t.Errorf("reflection on: %v", err)
		case on && len(resp.GetListServicesResponse().GetService()) == 0:
			t.Errorf("reflection on: no services listed: %v", resp)
		case !on && status.Code(err) != codes.Unimplemented:
			t.Errorf("reflection off: %v, want Unimplemented", err)
		}
	}
}

func TestMessageSizeLimit(t *testing.T) {
	conn := start(t, New(fakeReader{}, Config{Limits: Limits{MaxRecvMsgBytes: 1 << 10}}, slog.New(slog.DiscardHandler), nil))
	ids := make([]int64, 1000) // about 1000 bytes of varints, and more
	for i := range ids {
		ids[i] = int64(1000 + i)
	}
	_, err := inventoryv1.NewInventoryServiceClient(conn).BatchGetInventory(context.Background(), &inventoryv1.BatchGetInventoryRequest{ProductIds: ids})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized request: %v, want ResourceExhausted", err)
	}
}

// blockingReader blocks every Get until release is closed.
type blockingReader struct {
	entered atomic.Int32
	release chan struct{}
}

func (b *blockingReader) Get(ctx context.Context, id inventory.ProductID, _ app.BodyFormat, dst []byte) ([]byte, bool, error) {
	b.entered.Add(1)
	<-b.release
	return ProtoRenderer{}.AppendInventory(dst, &inventory.Inventory{Product: id}), false, nil
}

func (b *blockingReader) GetBatch(context.Context, []inventory.ProductID, app.BodyFormat) (app.BatchResult, error) {
	return app.BatchResult{}, nil
}

func TestMaxConcurrentStreams(t *testing.T) {
	r := &blockingReader{release: make(chan struct{})}
	conn := start(t, New(r, Config{Limits: Limits{MaxConcurrentStreams: 2}}, slog.New(slog.DiscardHandler), nil))
	client := inventoryv1.NewInventoryServiceClient(conn)
	done := make(chan error, 3)
	for i := range 3 {
		go func() {
			_, err := client.GetInventory(context.Background(), &inventoryv1.GetInventoryRequest{ProductId: int64(i + 1)})
			done <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.entered.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls reached the handler, want 2", r.entered.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The third call waits for a stream: give it time to (wrongly) start.
	time.Sleep(200 * time.Millisecond)
	if n := r.entered.Load(); n != 2 {
		t.Fatalf("%d calls in progress on one connection, limit 2", n)
	}
	close(r.release)
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
