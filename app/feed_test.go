package app

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// decoderFunc adapts a function to Decoder.
type decoderFunc func(topic string, key, value []byte) (inventory.Change, error)

func (f decoderFunc) Decode(topic string, key, value []byte) (inventory.Change, error) {
	return f(topic, key, value)
}

// The feed's source time follows the latest heartbeat it has seen, never
// going back; a change's commit time does not move it (an earlier change
// may still be on its way in another partition); heartbeats change
// nothing else.
func TestFeedSourceTime(t *testing.T) {
	svc := newTestService(t, &fakeStore{}, Config{})
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	changes := map[string]inventory.Change{
		"beat":  inventory.Heartbeat{At: t0.Add(2 * time.Second)},
		"older": inventory.StockChange{Product: 1, Warehouse: 1, Qty: 3, Pos: pos(500), Commit: t0.Add(time.Second)},
		"newer": inventory.StockChange{Product: 1, Warehouse: 1, Qty: 4, Pos: pos(600), Commit: t0.Add(3 * time.Second)},
	}
	feed := NewFeed(svc, decoderFunc(func(topic string, _, _ []byte) (inventory.Change, error) {
		if c, ok := changes[topic]; ok {
			return c, nil
		}
		return nil, errors.New("unknown")
	}), FeedConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !feed.SourceTime().IsZero() {
		t.Fatal("source time before any record")
	}
	feed.Handle([]StreamRecord{{Topic: "beat"}})
	if got := feed.SourceTime(); !got.Equal(t0.Add(2*time.Second)) || feed.Applied() != 0 {
		t.Fatalf("after a heartbeat: source time %v, applied %d; want %v and 0", got, feed.Applied(), t0.Add(2*time.Second))
	}
	feed.Handle([]StreamRecord{{Topic: "older"}, {Topic: "bad"}})
	if got := feed.SourceTime(); !got.Equal(t0.Add(2*time.Second)) || feed.Applied() != 1 {
		t.Fatalf("after an older change: source time %v, applied %d; want unchanged and 1", got, feed.Applied())
	}
	feed.Handle([]StreamRecord{{Topic: "newer"}})
	if got := feed.SourceTime(); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("after a newer change: source time %v, want the heartbeat's %v", got, t0.Add(2*time.Second))
	}
}
