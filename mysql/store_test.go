package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/inventory"
)

func openStore(tb testing.TB, dsn string) *Store {
	tb.Helper()
	s, err := Open(Config{DSN: dsn}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestLoad(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'AMS',1),(2,'BER',0);
		INSERT INTO warehouse_stock_item VALUES (10,1,5),(10,2,7),(11,2,1)`)
	s := openStore(t, db.DSN("inventory"))
	ctx := context.Background()

	ws, wpos, err := s.LoadWarehouses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0] != (inventory.Warehouse{ID: 1, Code: "AMS", Active: true}) || ws[1].Active {
		t.Fatalf("warehouses = %+v", ws)
	}
	snap, err := s.LoadProducts(ctx, []inventory.ProductID{10, 11, 12})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Stock[10]) != 2 || len(snap.Stock[11]) != 1 || snap.Stock[11][0] != (inventory.Stock{Warehouse: 2, Qty: 1}) {
		t.Fatalf("stock = %+v", snap.Stock)
	}
	if _, ok := snap.Stock[12]; ok {
		t.Fatal("unknown product returned")
	}
	if snap.Pos.IsZero() || snap.Pos.Before(wpos) {
		t.Fatalf("positions: warehouses %v, products %v", wpos, snap.Pos)
	}
	// The position is the binlog's end when nothing is in flight, and it
	// moves past every commit.
	var file string
	var end uint64
	var ignore1, ignore2 sql.NullString
	if err := db.DB(t, "").QueryRow("SHOW BINLOG STATUS").Scan(&file, &end, &ignore1, &ignore2); err != nil {
		t.Fatal(err)
	}
	if want, _ := inventory.ParsePosition(file, end, 0); snap.Pos != want {
		t.Fatalf("snapshot position %v, binlog end %v", snap.Pos, want)
	}
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = 6 WHERE product_id = 10 AND warehouse_id = 1")
	snap2, err := s.LoadProducts(ctx, []inventory.ProductID{10})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Pos.Before(snap2.Pos) || snap2.Stock[10][0].Qty != 6 {
		t.Fatalf("after update: %v %+v (before: %v)", snap2.Pos, snap2.Stock, snap.Pos)
	}
}

// MySQL and MariaDB take any non-zero TINYINT(1) as true: a warehouse
// with is_active = 2 (or -1) is active, in the directory load and in the
// warehouses a database-only load returns.
func TestLoadIsActiveNonZero(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'AMS',2),(2,'BER',0),(3,'CDG',-1),(4,'DUB',1);
		INSERT INTO warehouse_stock_item VALUES (10,1,5)`)
	want := []inventory.Warehouse{{ID: 1, Code: "AMS", Active: true}, {ID: 2, Code: "BER"}, {ID: 3, Code: "CDG", Active: true}, {ID: 4, Code: "DUB", Active: true}}
	ws, _, err := openStore(t, db.DSN("inventory")).LoadWarehouses(context.Background())
	if err != nil {
		t.Fatalf("LoadWarehouses: %v", err)
	}
	if !slices.Equal(ws, want) {
		t.Fatalf("warehouses = %+v, want %+v", ws, want)
	}
	_, dir, err := openStore(t, db.DSN("inventory")).loadDirect(context.Background(), []inventory.ProductID{10})
	if err != nil {
		t.Fatalf("direct read: %v", err)
	}
	for _, w := range want {
		if got, ok := dir.Lookup(w.ID); !ok || got != w {
			t.Fatalf("direct read's warehouse %d = %+v, want %+v", w.ID, got, w)
		}
	}
}

// The snapshot position is the one of the transaction's snapshot, not of
// the moment the status is read: this is the property the fill protocol
// relies on (docs/consistency.md).
func TestSnapshotPositionIsConsistent(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, "INSERT INTO warehouse_stock_item VALUES (1,1,1)")
	h := db.DB(t, "inventory")
	ctx := context.Background()
	conn, err := h.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		t.Fatal(err)
	}
	readPos := func() string {
		var name, v string
		if err := conn.QueryRowContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_position'").Scan(&name, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := readPos()
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = 2") // commits elsewhere
	if after := readPos(); after != before {
		t.Fatalf("snapshot position moved inside the transaction: %s → %s", before, after)
	}
	var qty int
	if err := conn.QueryRowContext(ctx, "SELECT qty_salable FROM warehouse_stock_item").Scan(&qty); err != nil || qty != 1 {
		t.Fatalf("snapshot sees qty %d, %v; want 1", qty, err)
	}
}

func TestUnavailable(t *testing.T) {
	db := mariadbtest.Start(t)
	s := openStore(t, db.DSN("inventory"))
	db.Stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.LoadProducts(ctx, []inventory.ProductID{1})
	if inventory.ErrorCode(err) != inventory.CodeUnavailable {
		t.Fatalf("err = %v (code %v), want unavailable", err, inventory.ErrorCode(err))
	}
	short, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	<-short.Done()
	if _, err := s.LoadProducts(short, []inventory.ProductID{1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestBadTableName(t *testing.T) {
	if _, err := Open(Config{DSN: "root@tcp(127.0.0.1:1)/x", StockTable: "a; DROP"}, nil, nil); err == nil {
		t.Fatal("invalid table name accepted")
	}
}

// The grants the README recommends are enough.
func TestReadOnlyUser(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'AMS',1); INSERT INTO warehouse_stock_item VALUES (10,1,5);
		CREATE USER 'gintoki'@'%' IDENTIFIED BY 'pw';
		GRANT SELECT ON inventory.warehouse TO 'gintoki'@'%';
		GRANT SELECT ON inventory.warehouse_stock_item TO 'gintoki'@'%'`)
	s := openStore(t, "gintoki:pw@tcp("+db.Addr()+")/inventory")
	if _, _, err := s.LoadWarehouses(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, err := s.LoadProducts(context.Background(), []inventory.ProductID{10})
	if err != nil || len(snap.Stock[10]) != 1 {
		t.Fatalf("load as read-only user: %+v, %v", snap, err)
	}
}

// Direct reads every request from the database, warehouses included, in
// one snapshot: a change shows at once, with no stream.
func TestDirect(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse VALUES (1,'AMS',1),(2,'BER',1);
		INSERT INTO warehouse_stock_item VALUES (10,1,5),(10,2,7)`)
	d := NewDirect(openStore(t, db.DSN("inventory")), []app.Renderer{codeQty{}}, 3)
	ctx := context.Background()
	get := func(t *testing.T, id inventory.ProductID) string {
		t.Helper()
		b, stale, err := d.Get(ctx, id, 0, []byte("|"))
		if stale {
			t.Fatal("a direct read was marked stale")
		}
		if err != nil {
			return "error:" + inventory.ErrorCode(err).String()
		}
		return string(b)
	}
	tests := []struct {
		change string
		id     inventory.ProductID
		want   string
	}{
		{"", 10, "|AMS=5,BER=7"},
		{"UPDATE warehouse SET is_active = 0 WHERE id = 2", 10, "|AMS=5"},
		{"UPDATE warehouse_stock_item SET qty_salable = 6 WHERE warehouse_id = 1", 10, "|AMS=6"},
		{"", 11, "error:not_found"},
		{"", 0, "error:invalid"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d after %q", tc.id, tc.change), func(t *testing.T) {
			if tc.change != "" {
				db.Exec(t, tc.change)
			}
			if got := get(t, tc.id); got != tc.want {
				t.Errorf("Get(%d) = %q, want %q", tc.id, got, tc.want)
			}
		})
	}
	res, err := d.GetBatch(ctx, []inventory.ProductID{11, 10, 10}, 0)
	if err != nil || len(res.Bodies) != 1 || string(res.Bodies[0]) != "AMS=6" || !slices.Equal(res.NotFound, []inventory.ProductID{11}) {
		t.Fatalf("GetBatch = %q %v, %v", res.Bodies, res.NotFound, err)
	}
	for _, ids := range [][]inventory.ProductID{nil, {1, 2, 3, 4}, {1, -1}} {
		if _, err := d.GetBatch(ctx, ids, 0); inventory.ErrorCode(err) != inventory.CodeInvalid {
			t.Errorf("GetBatch(%v) = %v, want invalid", ids, err)
		}
	}
}

// codeQty renders "CODE=qty,CODE=qty".
type codeQty struct{}

func (codeQty) AppendInventory(dst []byte, inv *inventory.Inventory) []byte {
	for i, w := range inv.Warehouses {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = fmt.Appendf(dst, "%s=%d", w.Code, w.Qty)
	}
	return dst
}

// ProductIDs pages through the products in id order, each product once.
func TestProductIDs(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse_stock_item SELECT seq DIV 2, seq % 2 + 1, 1 FROM seq_2_to_41`) // products 1..20, two rows each
	s := openStore(t, db.DSN("inventory"))
	var got []inventory.ProductID
	var after inventory.ProductID
	for pages := 0; ; pages++ {
		page, err := s.ProductIDs(context.Background(), after, 7)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 7 {
			if pages != 2 {
				t.Fatalf("pages = %d, want 3", pages+1)
			}
			break
		}
		after = page[len(page)-1]
	}
	want := make([]inventory.ProductID, 20)
	for i := range want {
		want[i] = inventory.ProductID(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
}

// A dense set of ids is read as one range of the primary key, and the
// answer still holds exactly the products asked for; a sparse set is read
// by its ids. Both give the same stock.
func TestLoadDenseRange(t *testing.T) {
	db := mariadbtest.Start(t)
	db.Exec(t, `INSERT INTO warehouse_stock_item SELECT seq DIV 2, seq % 2 + 1, seq FROM seq_2_to_401`) // products 1..200, two rows each
	s := openStore(t, db.DSN("inventory"))
	var dense, sparse []inventory.ProductID
	for id := inventory.ProductID(10); id <= 150; id++ {
		if id%3 != 0 { // two thirds of the range
			dense = append(dense, id)
		}
	}
	for id := inventory.ProductID(1); id <= 200; id += 7 {
		sparse = append(sparse, id)
	}
	sparse = append(sparse, 1000) // unknown
	for name, ids := range map[string][]inventory.ProductID{"dense": dense, "sparse": sparse} {
		t.Run(name, func(t *testing.T) {
			if _, wanted := s.stockQuery(ids, s.stockEnd); (wanted != nil) != (name == "dense") {
				t.Fatalf("read as a range: %v", wanted != nil)
			}
			snap, err := s.LoadProducts(context.Background(), ids)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, id := range ids {
				if id > 200 {
					continue
				}
				n++
				want := []inventory.Stock{{Warehouse: 1, Qty: int32(2 * id)}, {Warehouse: 2, Qty: int32(2*id + 1)}}
				if got := snap.Stock[id]; !slices.Equal(got, want) {
					t.Fatalf("product %d: %v, want %v", id, got, want)
				}
			}
			if len(snap.Stock) != n {
				t.Fatalf("%d products returned, want the %d asked for", len(snap.Stock), n)
			}
		})
	}
}
