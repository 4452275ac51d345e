package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/inventory"
)

// Events written by hand in real Debezium's documented format (the fixtures
// of package debezium, with and without the schema wrapper) are consumed
// correctly by a running node; malformed and unknown events are skipped
// without stopping the stream.
func TestDebeziumEventsEndToEnd(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'WH-AMS',1),(3,'WH-CDG',1);
		INSERT INTO warehouse_stock_item VALUES (1004,3,42),(1004,1,1),(2,5,10)`)
	stockTopic, whTopic := "dbserver1.inventory.warehouse_stock_item", "dbserver1.inventory.warehouse"
	broker := startBroker(t, 3, stockTopic, whTopic)
	n := startNode(t, db.DSN("inventory"), broker, func(c *serveConfig) { c.TopicPrefix = "dbserver1" })

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(topic string, key, value []byte) {
		t.Helper()
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: key, Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// The fixtures' binlog coordinates are from another server; move them
	// into this database's current binlog file, after everything the node
	// has loaded, keeping their order.
	base := binlogEnd(t, db)
	fixture := func(name string) (key, value []byte) {
		t.Helper()
		dir := filepath.Join("..", "..", "debezium", "testdata")
		if b, err := os.ReadFile(filepath.Join(dir, name+".key.json")); err == nil {
			key = b
		}
		value, err := os.ReadFile(filepath.Join(dir, name+".value.json"))
		if os.IsNotExist(err) {
			return key, nil // a tombstone
		}
		if err != nil {
			t.Fatal(err)
		}
		return key, movePosition(t, value, base)
	}
	expect := func(path, want string) {
		t.Helper()
		// 10 s: a malformed warehouse record marks answers stale until the
		// directory is reloaded (the fixtures' positions are far ahead of
		// the database, so after app.Config.RefreshGrace).
		pollUntil(t, 10*time.Second, func() (bool, string) {
			code, hdr, body := n.getFull(t, path, nil)
			got := fmt.Sprintf("stale=%t %d %s", hdr.Get("X-Gintoki-Stale") == "true", code, body)
			return strings.Contains(got, want), got
		})
	}

	expect("/v1/products/1004/inventory", `"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":1},{"warehouse_code":"WH-CDG","qty_salable":42}]`)
	steps := []struct {
		topic, fixture string
		path, want     string
	}{
		{stockTopic, "stock_update", "/v1/products/1004/inventory", `{"warehouse_code":"WH-CDG","qty_salable":40}`},
		{whTopic, "warehouse_create", "/v1/products/1004/inventory", `WH-CDG`}, // new warehouse 9, not stocked
		{stockTopic, "stock_delete", "/v1/products/1004/inventory", `"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":1}]}`},
		{stockTopic, "stock_tombstone", "/v1/products/1004/inventory", `"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":1}]}`},
		{stockTopic, "other_table_create", "/v1/products/1004/inventory", `WH-AMS`},
		{whTopic, "warehouse_snapshot_v1", "/v1/products/1004/inventory", `WH-AMS`}, // snapshot read older than the node's load: ignored
		{stockTopic, "stock_update_v1", "/v1/products/2/inventory", `stale=false 200 {"product_id":2,"warehouses":[]}`},
		// The truncate empties the cache; the database (not really
		// truncated) is behind the consumed truncate, so a fill must not
		// cache its older snapshot: it answers it marked stale.
		{stockTopic, "stock_truncate", "/v1/products/1004/inventory", `stale=true 200 {"product_id":1004,`},
	}
	expect("/v1/products/2/inventory", `stale=false 200 {"product_id":2,"warehouses":[]}`)
	for _, st := range steps {
		key, value := fixture(st.fixture)
		produce(st.topic, key, value)
		// Malformed: skipped, counted, and the product it names (one this
		// test does not read) evicted. Always on the stock topic: a
		// warehouse record that cannot be applied makes the node reload its
		// directory from a snapshot after every consumed change, which the
		// fixtures' positions, ahead of this database, never allow.
		produce(stockTopic, []byte(`{"product_id":999,"warehouse_id":1}`), []byte(`{not json`))
		expect(st.path, st.want)
	}
	_, metrics := n.get(t, "/metrics", nil)
	for _, want := range []string{`gintoki_changes_rejected_total{reason="malformed"} 8`, `gintoki_changes_rejected_total{reason="unknown_table"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// binlogEnd returns the database's current binlog file and end offset.
func binlogEnd(tb testing.TB, db *mariadbtest.Server) inventory.Position {
	tb.Helper()
	var file string
	var end uint64
	var a, b sql.NullString
	if err := db.DB(tb, "").QueryRow("SHOW BINLOG STATUS").Scan(&file, &end, &a, &b); err != nil {
		tb.Fatal(err)
	}
	p, err := inventory.ParsePosition(file, end, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// movePosition rewrites a Debezium value's source.file/pos to base's file
// and base.Offset + 1e6×(fixture file number) + fixture pos.
func movePosition(tb testing.TB, value []byte, base inventory.Position) []byte {
	tb.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return value // malformed on purpose: leave as is
	}
	env := v
	if p, ok := v["payload"].(map[string]any); ok {
		env = p
	}
	src, ok := env["source"].(map[string]any)
	if !ok {
		return value
	}
	file, _ := src["file"].(string)
	pos, _ := src["pos"].(json.Number).Int64()
	fp, err := inventory.ParsePosition(file, uint64(pos), 0)
	if err != nil {
		tb.Fatal(err)
	}
	src["file"] = fmt.Sprintf("mysql-bin.%06d", base.File)
	src["pos"] = base.Offset + 1_000_000*uint64(fp.File) + fp.Offset
	out, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
