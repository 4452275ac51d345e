package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/proctest"
	"github.com/gintoki/gintoki/inventory"
)

// logLines returns the JSON log lines written to logs so far.
func logLines(tb testing.TB, logs *proctest.Buffer) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, ln := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if ln == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			tb.Fatalf("log line %q: %v", ln, err)
		}
		out = append(out, m)
	}
	return out
}

// rejectingDecoder refuses every record: with an UnapplicableError naming
// the product in the key ("p<N>"), naming none ("?"), or a plain error.
func rejectingDecoder() Decoder {
	return decoderFunc(func(_ string, key, _ []byte) (inventory.Change, error) {
		err := errors.New("bad record")
		switch k := string(key); {
		case strings.HasPrefix(k, "p"):
			var id inventory.ProductID
			fmt.Sscanf(k, "p%d", &id)
			return nil, fmt.Errorf("wrapped: %w", &UnapplicableError{Product: id, KeyKnown: true, Err: err})
		case k == "?":
			return nil, &UnapplicableError{Err: err}
		}
		return nil, err
	})
}

// Every rejected record is counted and logged at error level with its
// topic, partition and offset, up to the rate limit; beyond it, records
// are still counted, and the next line logged says how many were not.
func TestFeedRejectLogsEveryRecordUpToARateLimit(t *testing.T) {
	var logs proctest.Buffer
	svc := newTestService(t, &fakeStore{}, Config{})
	feed := NewFeed(svc, rejectingDecoder(), FeedConfig{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	feed.logBurst, feed.logWindow = 5, time.Hour

	var msgs []StreamRecord
	for i := range 12 {
		msgs = append(msgs, StreamRecord{Topic: "t.inventory.warehouse_stock_item", Partition: 2, Offset: int64(100 + i), Key: []byte("p42")})
	}
	feed.Handle(msgs)
	if got := feed.Rejected()["malformed"]; got != 12 {
		t.Fatalf("rejected count = %d, want 12", got)
	}
	lines := logLines(t, &logs)
	if len(lines) != 5 {
		t.Fatalf("%d lines logged, want 5 (the burst)", len(lines))
	}
	for i, l := range lines {
		if l["level"] != "ERROR" || l["topic"] != "t.inventory.warehouse_stock_item" || l["partition"] != 2.0 ||
			l["offset"] != float64(100+i) || l["reason"] != "malformed" || l["evicted"] != "product 42" || !strings.Contains(fmt.Sprint(l["err"]), "bad record") {
			t.Errorf("line %d = %v", i, l)
		}
	}

	// A new window: the first line says how many were not logged.
	feed.mu.Lock()
	feed.logWindowStart = time.Time{}
	feed.mu.Unlock()
	feed.Handle([]StreamRecord{{Topic: "x", Offset: 7, Key: []byte("?")}, {Topic: "x", Offset: 8}})
	lines = logLines(t, &logs)
	if len(lines) != 7 {
		t.Fatalf("%d lines logged after the window, want 7", len(lines))
	}
	if l := lines[5]; l["not_logged_before_this"] != 7.0 || l["offset"] != 7.0 || l["evicted"] != "every product" {
		t.Errorf("first line of the new window = %v, want not_logged_before_this 7 and evicted every product", l)
	}
	if l := lines[6]; l["not_logged_before_this"] != 0.0 || l["evicted"] != "nothing" {
		t.Errorf("second line = %v", l)
	}
	if p, all := feed.Evicted(); p != 12 || all != 1 {
		t.Errorf("Evicted() = %d, %d; want 12, 1", p, all)
	}
}

// A rejected stock record evicts the entry of the product it names, and
// only that one; a record that names none evicts every entry. The next
// read fills from the store, which has the change the record carried.
func TestFeedRejectEvicts(t *testing.T) {
	qty := map[inventory.ProductID]int32{1: 5, 2: 7}
	var mu sync.Mutex // guards qty
	store := &fakeStore{load: func(_ context.Context, ids []inventory.ProductID) (Snapshot, error) {
		mu.Lock()
		defer mu.Unlock()
		snap := Snapshot{Pos: pos(100), Stock: map[inventory.ProductID][]inventory.Stock{}}
		for _, id := range ids {
			snap.Stock[id] = []inventory.Stock{{Warehouse: 1, Qty: qty[id]}}
		}
		return snap, nil
	}}
	svc := newTestService(t, store, Config{})
	feed := NewFeed(svc, rejectingDecoder(), FeedConfig{}, slog.New(slog.DiscardHandler))
	if get(t, svc, 1) != "1:AMS=5" || get(t, svc, 2) != "2:AMS=7" {
		t.Fatal("fills")
	}
	// The database changes; the change events that say so cannot be read.
	mu.Lock()
	qty[1], qty[2] = 6, 8
	mu.Unlock()
	if get(t, svc, 1) != "1:AMS=5" {
		t.Fatal("not served from the cache")
	}

	feed.Handle([]StreamRecord{{Topic: "s", Key: []byte("p1")}})
	if got1, got2 := get(t, svc, 1), get(t, svc, 2); got1 != "1:AMS=6" || got2 != "2:AMS=7" {
		t.Fatalf("after a rejected record for product 1: %q, %q; want it refilled and product 2 untouched", got1, got2)
	}
	feed.Handle([]StreamRecord{{Topic: "s", Key: []byte("?")}})
	if got := get(t, svc, 2); got != "2:AMS=8" {
		t.Fatalf("after a rejected record naming no product: %q, want a refill", got)
	}
	feed.Handle([]StreamRecord{{Topic: "s", Key: []byte("other")}}) // not a stock record: nothing to evict
	if p, all := feed.Evicted(); p != 1 || all != 1 {
		t.Errorf("Evicted() = %d, %d; want 1, 1", p, all)
	}
}
