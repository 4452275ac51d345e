package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/kafkatest"
	"github.com/gintoki/gintoki/relay"
)

func TestRelayEndToEnd(t *testing.T) {
	e := newEnv(t)
	r := e.start(t)
	e.waitStarted(t, r)
	cons := newConsumer(t, e)

	e.srv.Exec(t, "INSERT INTO warehouse VALUES (1, 'WH-A', 1), (2, 'WH-B', 1)")
	e.srv.Exec(t, `BEGIN;
		INSERT INTO warehouse_stock_item VALUES (100, 1, 5), (100, 2, 6), (101, 1, 7);
		UPDATE warehouse_stock_item SET qty_salable = 8 WHERE product_id = 100 AND warehouse_id = 1;
		COMMIT`)
	e.srv.Exec(t, "DELETE FROM warehouse_stock_item WHERE product_id = 101")
	e.srv.Exec(t, "UPDATE warehouse SET is_active = 0 WHERE id = 2")
	e.srv.Exec(t, "DELETE FROM warehouse WHERE id = 1")

	evs := cons.until(t, "every event", func(evs []*event) bool {
		return count(topicWarehouse, 5)(evs) && count(topicStock, 6)(evs)
	})

	type want struct {
		key    string
		op     string
		before map[string]any
		after  map[string]any
	}
	wh := func(id, code string, active int) map[string]any {
		return map[string]any{"id": json.Number(id), "code": code, "is_active": json.Number(fmt.Sprint(active))}
	}
	st := func(p, w, q int) map[string]any {
		return map[string]any{"product_id": json.Number(fmt.Sprint(p)), "warehouse_id": json.Number(fmt.Sprint(w)), "qty_salable": json.Number(fmt.Sprint(q))}
	}
	wants := map[string][]want{
		topicWarehouse: {
			{`{"id":1}`, "c", nil, wh("1", "WH-A", 1)},
			{`{"id":2}`, "c", nil, wh("2", "WH-B", 1)},
			{`{"id":2}`, "u", wh("2", "WH-B", 1), wh("2", "WH-B", 0)},
			{`{"id":1}`, "d", wh("1", "WH-A", 1), nil},
			{`{"id":1}`, "", nil, nil}, // tombstone
		},
		topicStock: {
			{`{"product_id":100,"warehouse_id":1}`, "c", nil, st(100, 1, 5)},
			{`{"product_id":100,"warehouse_id":2}`, "c", nil, st(100, 2, 6)},
			{`{"product_id":101,"warehouse_id":1}`, "c", nil, st(101, 1, 7)},
			{`{"product_id":100,"warehouse_id":1}`, "u", st(100, 1, 5), st(100, 1, 8)},
			{`{"product_id":101,"warehouse_id":1}`, "d", st(101, 1, 7), nil},
			{`{"product_id":101,"warehouse_id":1}`, "", nil, nil},
		},
	}

	for topic, ws := range wants {
		// Records of different keys may interleave differently across
		// partitions; per key they must come in order.
		perKey := map[string][]*event{}
		for _, ev := range evs {
			if ev.topic == topic {
				perKey[ev.key] = append(perKey[ev.key], ev)
			}
		}
		next := map[string]int{}
		for _, w := range ws {
			i := next[w.key]
			next[w.key]++
			if i >= len(perKey[w.key]) {
				t.Errorf("%s: missing event %d for key %s", topic, i, w.key)
				continue
			}
			ev := perKey[w.key][i]
			if wantPart := kafkatest.Partition([]byte(ev.key), partitions); ev.partition != wantPart {
				t.Errorf("%s key %s in partition %d, want %d (murmur2)", topic, ev.key, ev.partition, wantPart)
			}
			if w.op == "" {
				if ev.value != nil {
					t.Errorf("%s key %s: want a tombstone, got %s", topic, ev.key, ev.value)
				}
				continue
			}
			var env struct{ Before, After map[string]any }
			dec := json.NewDecoder(bytes.NewReader(ev.value))
			dec.UseNumber()
			if err := dec.Decode(&env); err != nil {
				t.Fatal(err)
			}
			s := ev.env.Source
			if ev.env.Op != w.op || fmt.Sprint(env.Before) != fmt.Sprint(w.before) || fmt.Sprint(env.After) != fmt.Sprint(w.after) {
				t.Errorf("%s key %s event %d: op %s before %v after %v; want op %s before %v after %v",
					topic, ev.key, i, ev.env.Op, env.Before, env.After, w.op, w.before, w.after)
			}
			if s.Name != "gintoki" || s.DB != "inventory" || "gintoki.inventory."+s.Table != topic ||
				!strings.HasPrefix(s.File, "mysql-bin.") || s.Pos < 4 || s.GTID == nil || s.ServerID != 1 ||
				s.TsMs <= 0 || s.Snapshot != "false" || ev.env.TsMs <= 0 {
				t.Errorf("%s key %s event %d: source %+v", topic, ev.key, i, s)
			}
		}
		for key, n := range next {
			if len(perKey[key]) != n {
				t.Errorf("%s key %s: %d events, want %d", topic, key, len(perKey[key]), n)
			}
		}
	}

	// A graceful stop leaves a checkpoint after everything published.
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	cp, err := relay.NewFileCheckpoint(e.checkpoint).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.value != nil && (cp.File < ev.env.Source.File || cp.File == ev.env.Source.File && cp.Pos <= ev.env.Source.Pos) {
			t.Errorf("checkpoint %v is not after event at %s:%d", cp, ev.env.Source.File, ev.env.Source.Pos)
		}
	}

	// And the relay refuses to start on a server that stopped logging rows.
	e.srv.Exec(t, "SET GLOBAL binlog_format = 'STATEMENT'")
	r = e.start(t)
	select {
	case err := <-r.done:
		r.done = nil
		r.pub.Close()
		if err == nil || !strings.Contains(err.Error(), "binlog_format is STATEMENT, want ROW") {
			t.Fatalf("Run on a STATEMENT server = %v, want the preflight error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("relay started on a STATEMENT-format server")
	}
}

func TestRelayRestartMidStreamLosesNothing(t *testing.T) {
	e := newEnv(t)
	r := e.start(t)
	e.waitStarted(t, r)
	cons := newConsumer(t, e)
	w := newWriter(t, e.srv, 7)
	ctx := context.Background()

	if err := w.write(ctx, 100); err != nil {
		t.Fatal(err)
	}
	first := w.total()
	cons.until(t, "the first writes", stockEvents(first))
	// A checkpoint no later than the end of the first writes: what a crash
	// could have left behind.
	early, err := os.ReadFile(e.checkpoint)
	if err != nil {
		t.Fatal(err)
	}

	// Stop while the relay is busy with the next writes, keep writing while
	// it is down, then start it again from its checkpoint.
	wrote := make(chan error, 1)
	go func() { wrote <- w.write(ctx, 150) }()
	cons.until(t, "some of the next writes", stockEvents(first+30))
	if err := r.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if err := w.write(ctx, 50); err != nil {
		t.Fatal(err)
	}
	// A graceful stop saves a checkpoint after everything it published,
	// here beyond the early one. Put the early one back, as after a crash,
	// so the restart must both replay and catch up.
	if err := os.WriteFile(e.checkpoint, early, 0o644); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	if err := w.write(ctx, 100); err != nil {
		t.Fatal(err)
	}
	evs := cons.until(t, "every change", stockEvents(w.total()))
	if dups := checkAtLeastOnceInOrder(t, w, evs); dups == 0 {
		t.Error("no event was replayed after restarting from an old checkpoint")
	}
}

func TestRelaySurvivesDatabaseRestart(t *testing.T) {
	e := newEnv(t)
	r := e.start(t)
	e.waitStarted(t, r)
	cons := newConsumer(t, e)
	w := newWriter(t, e.srv, 5)
	ctx := context.Background()

	if err := w.write(ctx, 100); err != nil {
		t.Fatal(err)
	}
	e.srv.Restart(t)
	if err := w.write(ctx, 100); err != nil {
		t.Fatal(err)
	}
	evs := cons.until(t, "every change", stockEvents(w.total()))
	checkAtLeastOnceInOrder(t, w, evs)
	select {
	case err := <-r.done:
		t.Fatalf("relay stopped across the restart: %v", err)
	default:
	}
	files := map[string]bool{}
	for _, ev := range evs {
		files[ev.env.Source.File] = true
	}
	if len(files) < 2 {
		t.Errorf("events come from binlog files %v; a restart should have started a new one", files)
	}
}
