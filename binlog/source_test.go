package binlog_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/relay"
)

func newSource(tb testing.TB, srv *mariadbtest.Server) *binlog.Source {
	tb.Helper()
	src, err := binlog.New(binlog.Config{
		Addr: srv.Addr(), User: "root", Database: "inventory",
		Tables: []string{"warehouse", "warehouse_stock_item"}, ServerID: 1001,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

func open(tb testing.TB, src *binlog.Source, from relay.BinlogPosition) (relay.Stream, relay.BinlogPosition) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, start, err := src.Open(ctx, from)
	if err != nil {
		tb.Fatalf("Open(%v): %v", from, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, start
}

func next(tb testing.TB, s relay.Stream) relay.Transaction {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := s.Next(ctx)
	if err != nil {
		tb.Fatalf("Next: %v", err)
	}
	return tx
}

// binlogEvent is one row of SHOW BINLOG EVENTS.
type binlogEvent struct {
	pos, end uint64
	typ      string
}

func showEvents(tb testing.TB, srv *mariadbtest.Server, file string) map[uint64]binlogEvent {
	tb.Helper()
	rows, err := srv.DB(tb, "").Query("SHOW BINLOG EVENTS IN '" + file + "'")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	events := map[uint64]binlogEvent{}
	for rows.Next() {
		var name, typ, info string
		var serverID uint32
		var e binlogEvent
		if err := rows.Scan(&name, &e.pos, &typ, &serverID, &e.end, &info); err != nil {
			tb.Fatal(err)
		}
		e.typ = typ
		events[e.pos] = e
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return events
}

func TestStream(t *testing.T) {
	srv := mariadbtest.Start(t)
	s, start := open(t, newSource(t, srv), relay.BinlogPosition{})
	if !strings.HasPrefix(start.File, "mysql-bin.") || start.Pos < 4 {
		t.Fatalf("start %v, want the current end of mysql-bin.*", start)
	}

	srv.Exec(t, "INSERT INTO warehouse VALUES (1, 'A', 1)")
	srv.Exec(t, `BEGIN;
		INSERT INTO warehouse_stock_item VALUES (10, 1, 5), (11, 1, 6);
		UPDATE warehouse_stock_item SET qty_salable = 7 WHERE product_id = 10;
		DELETE FROM warehouse_stock_item WHERE product_id = 11;
		UPDATE warehouse SET is_active = 0 WHERE id = 1;
		COMMIT`)
	srv.Exec(t, "CREATE TABLE other (id INT PRIMARY KEY)")
	srv.Exec(t, "INSERT INTO other VALUES (1)")

	tx1 := next(t, s)
	tx2 := next(t, s)
	ddl := next(t, s)
	other := next(t, s)

	wh := []string{"id", "code", "is_active"}
	stock := []string{"product_id", "warehouse_id", "qty_salable"}
	stockKey := []string{"product_id", "warehouse_id"}
	row := func(cols []string, vals ...any) map[string]any {
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		return m
	}
	want := []relay.RowChange{
		{Table: "warehouse", Op: 'c', Key: []string{"id"}, Columns: wh, After: row(wh, int32(1), "A", int8(1))},
		{Table: "warehouse_stock_item", Op: 'c', Key: stockKey, Columns: stock, After: row(stock, int64(10), int32(1), int32(5))},
		{Table: "warehouse_stock_item", Op: 'c', Key: stockKey, Columns: stock, After: row(stock, int64(11), int32(1), int32(6))},
		{Table: "warehouse_stock_item", Op: 'u', Key: stockKey, Columns: stock,
			Before: row(stock, int64(10), int32(1), int32(5)), After: row(stock, int64(10), int32(1), int32(7))},
		{Table: "warehouse_stock_item", Op: 'd', Key: stockKey, Columns: stock, Before: row(stock, int64(11), int32(1), int32(6))},
		{Table: "warehouse", Op: 'u', Key: []string{"id"}, Columns: wh,
			Before: row(wh, int32(1), "A", int8(1)), After: row(wh, int32(1), "A", int8(0))},
	}
	got := append(append([]relay.RowChange(nil), tx1.Changes...), tx2.Changes...)
	if len(tx1.Changes) != 1 || len(got) != len(want) {
		t.Fatalf("got %d+%d changes, want 1+%d", len(tx1.Changes), len(tx2.Changes), len(want)-1)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Database != "inventory" || g.Table != w.Table || g.Op != w.Op || !reflect.DeepEqual(g.Key, w.Key) ||
			!reflect.DeepEqual(g.Columns, w.Columns) || !reflect.DeepEqual(g.Before, w.Before) || !reflect.DeepEqual(g.After, w.After) {
			t.Errorf("change %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if len(ddl.Changes) != 0 || len(other.Changes) != 0 {
		t.Errorf("DDL and other-table transactions carry %d and %d changes, want none", len(ddl.Changes), len(other.Changes))
	}

	// Positions: each change points at the start of its rows event, the two
	// inserted rows share one event, and each transaction ends after its
	// commit event, in order.
	events := showEvents(t, srv, start.File)
	wantTypes := []string{"Write_rows", "Write_rows", "Write_rows", "Update_rows", "Delete_rows", "Update_rows"}
	for i, c := range got {
		e, ok := events[c.Source.Pos]
		if c.Source.File != start.File || !ok || !strings.HasPrefix(e.typ, wantTypes[i]) {
			t.Errorf("change %d at %s:%d is not at the start of a %s event (%+v)", i, c.Source.File, c.Source.Pos, wantTypes[i], e)
		}
		if !strings.HasPrefix(c.Source.GTID, "0-1-") || c.Source.ServerID != 1 || c.Source.Time.IsZero() {
			t.Errorf("change %d source %+v: want a MariaDB GTID, server id 1 and a commit time", i, c.Source)
		}
	}
	if got[1].Source.Pos != got[2].Source.Pos || got[1].Source.Row != 0 || got[2].Source.Row != 1 {
		t.Errorf("rows of one insert at %d/%d and %d/%d, want one event, rows 0 and 1",
			got[1].Source.Pos, got[1].Source.Row, got[2].Source.Pos, got[2].Source.Row)
	}
	if got[1].Source.GTID != got[5].Source.GTID || got[0].Source.GTID == got[1].Source.GTID {
		t.Errorf("GTIDs %q %q %q: want one per transaction", got[0].Source.GTID, got[1].Source.GTID, got[5].Source.GTID)
	}
	var ends []uint64
	for _, tx := range []relay.Transaction{tx1, tx2, ddl, other} {
		if tx.End.File != start.File {
			t.Errorf("transaction ends in %s, want %s", tx.End.File, start.File)
		}
		ends = append(ends, tx.End.Pos)
	}
	for _, i := range []int{0, 1, 3} { // those ending in an XID event
		found := false
		for _, e := range events {
			found = found || (e.typ == "Xid" && e.end == ends[i])
		}
		if !found {
			t.Errorf("transaction %d ends at %d, which is not the end of an Xid event", i, ends[i])
		}
	}
	for i := 1; i < len(ends); i++ {
		if ends[i] <= ends[i-1] {
			t.Errorf("transaction ends %v not increasing", ends)
		}
	}

	// Resuming at a transaction's end yields what followed it.
	s2, _ := open(t, newSource(t, srv), tx1.End)
	if again := next(t, s2); len(again.Changes) != 5 || again.End != tx2.End {
		t.Fatalf("resumed after the first transaction: %d changes ending at %v, want 5 at %v", len(again.Changes), again.End, tx2.End)
	}
}

func TestPreflightRefusesUnusableSettings(t *testing.T) {
	srv := mariadbtest.Start(t)
	src := newSource(t, srv)
	for _, tc := range []struct {
		set, reset, setting, msg string
	}{
		{"SET GLOBAL binlog_format = 'STATEMENT'", "SET GLOBAL binlog_format = 'ROW'",
			"binlog_format", "binlog_format is STATEMENT, want ROW; fix: SET GLOBAL binlog_format='ROW'"},
		{"SET GLOBAL binlog_row_metadata = 'MINIMAL'", "SET GLOBAL binlog_row_metadata = 'FULL'",
			"binlog_row_metadata", "binlog_row_metadata is MINIMAL, want FULL; fix: SET GLOBAL binlog_row_metadata='FULL'"},
		{"SET GLOBAL binlog_row_image = 'NOBLOB'", "SET GLOBAL binlog_row_image = 'FULL'",
			"binlog_row_image", "binlog_row_image is NOBLOB, want FULL"},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			srv.Exec(t, tc.set)
			defer srv.Exec(t, tc.reset)
			s, _, err := src.Open(context.Background(), relay.BinlogPosition{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			var se *binlog.SettingError
			if !errors.As(err, &se) || se.Setting != tc.setting {
				t.Fatalf("Open = %v, want a SettingError for %s", err, tc.setting)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
		})
	}
	open(t, src, relay.BinlogPosition{}) // and all is well again
}

// Events written before an ALTER TABLE and read after it keep the column
// names they were written with: names come from each event's table map,
// never from the current schema.
func TestReplayAfterRenameColumnKeepsOldNames(t *testing.T) {
	srv := mariadbtest.Start(t)
	src := newSource(t, srv)
	probe, from := open(t, src, relay.BinlogPosition{})
	probe.Close()

	srv.Exec(t, "INSERT INTO warehouse VALUES (1, 'OLD', 1)")
	srv.Exec(t, "ALTER TABLE warehouse RENAME COLUMN code TO wh_code")
	srv.Exec(t, "INSERT INTO warehouse VALUES (2, 'NEW', 1)")
	srv.Exec(t, "UPDATE warehouse SET wh_code = 'OLDER' WHERE id = 1")

	s, _ := open(t, src, from)
	before := next(t, s)
	if ddl := next(t, s); len(ddl.Changes) != 0 {
		t.Fatalf("ALTER yielded %d changes", len(ddl.Changes))
	}
	after := next(t, s)
	update := next(t, s)
	if len(before.Changes) != 1 || len(after.Changes) != 1 || len(update.Changes) != 1 {
		t.Fatalf("changes per transaction %d %d %d, want 1 1 1", len(before.Changes), len(after.Changes), len(update.Changes))
	}
	if got, want := before.Changes[0].After, map[string]any{"id": int32(1), "code": "OLD", "is_active": int8(1)}; !reflect.DeepEqual(got, want) {
		t.Errorf("insert before the ALTER = %v, want %v (old column name)", got, want)
	}
	if got, want := after.Changes[0].After, map[string]any{"id": int32(2), "wh_code": "NEW", "is_active": int8(1)}; !reflect.DeepEqual(got, want) {
		t.Errorf("insert after the ALTER = %v, want %v", got, want)
	}
	if got := update.Changes[0].Before["wh_code"]; got != "OLD" {
		t.Errorf("update after the ALTER: before wh_code = %v, want OLD", got)
	}
}

func TestNewValidates(t *testing.T) {
	ok := binlog.Config{Addr: "127.0.0.1:3307", Database: "inventory", Tables: []string{"t"}, ServerID: 1}
	for name, mutate := range map[string]func(*binlog.Config){
		"bad address":    func(c *binlog.Config) { c.Addr = "nowhere" },
		"zero server id": func(c *binlog.Config) { c.ServerID = 0 },
		"no database":    func(c *binlog.Config) { c.Database = "" },
		"no tables":      func(c *binlog.Config) { c.Tables = nil },
		"bad flavor":     func(c *binlog.Config) { c.Flavor = "oracle" },
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			mutate(&c)
			if _, err := binlog.New(c); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
	if _, err := binlog.New(ok); err != nil {
		t.Fatal(err)
	}
}

func TestStreamColumnTypes(t *testing.T) {
	srv := mariadbtest.Start(t)
	srv.Exec(t, `CREATE TABLE typed (
		id BIGINT UNSIGNED PRIMARY KEY, bin VARBINARY(8), blb BLOB, txt TEXT, vc VARCHAR(8),
		e ENUM('a', 'b'), st SET('x', 'y', 'z'), j JSON, d DECIMAL(10, 2), n INT NULL)`)
	src, err := binlog.New(binlog.Config{
		Addr: srv.Addr(), User: "root", Database: "inventory", Tables: []string{"typed"}, ServerID: 1002,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := open(t, src, relay.BinlogPosition{})
	srv.Exec(t, `INSERT INTO typed VALUES (18446744073709551615, x'000102', 'raw', 'héllo', 'vé', 'b', 'x,z', '{"k": 1}', 12.34, NULL)`)
	tx := next(t, s)
	if len(tx.Changes) != 1 {
		t.Fatalf("%d changes, want 1", len(tx.Changes))
	}
	want := map[string]any{
		"id": uint64(18446744073709551615), "bin": []byte{0, 1, 2}, "blb": []byte("raw"), "txt": "héllo", "vc": "vé",
		"e": "b", "st": "x,z", "j": `{"k": 1}`, "d": "12.34", "n": nil,
	}
	got := tx.Changes[0].After
	for col, w := range want {
		if g := got[col]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", col, g, g, w, w)
		}
	}
	if k := tx.Changes[0].Key; !reflect.DeepEqual(k, []string{"id"}) {
		t.Errorf("key %v, want [id]", k)
	}
}

// The grants the README recommends for the relay are enough.
func TestRelayUserGrants(t *testing.T) {
	srv := mariadbtest.Start(t)
	srv.Exec(t, `CREATE USER 'relay'@'%' IDENTIFIED BY 'pw';
		GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'relay'@'%'`)
	src, err := binlog.New(binlog.Config{
		Addr: srv.Addr(), User: "relay", Password: "pw", Database: "inventory",
		Tables: []string{"warehouse", "warehouse_stock_item"}, ServerID: 1002,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := open(t, src, relay.BinlogPosition{})
	srv.Exec(t, "INSERT INTO warehouse VALUES (1, 'A', 1)")
	if tx := next(t, s); len(tx.Changes) != 1 || tx.Changes[0].Table != "warehouse" {
		t.Fatalf("transaction %+v", tx)
	}
}

// An idle stream hears the server's heartbeats and says when it was last
// caught up, and again after reading a transaction.
func TestStreamCaughtUpAt(t *testing.T) {
	srv := mariadbtest.Start(t)
	s, _ := open(t, newSource(t, srv), relay.BinlogPosition{})
	if at := s.CaughtUpAt(); !at.IsZero() {
		t.Fatalf("caught up at %v before reading anything", at)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	txs := make(chan relay.Transaction, 16)
	go func() {
		for {
			tx, err := s.Next(ctx)
			if err != nil {
				return
			}
			if len(tx.Changes) > 0 { // not the other table's
				txs <- tx
			}
		}
	}()
	waitCaughtUp := func(after time.Time) time.Time {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if at := s.CaughtUpAt(); at.After(after) {
				return at
			}
			if time.Now().After(deadline) {
				t.Fatalf("no heartbeat after %v within 10s", after)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first := waitCaughtUp(time.Time{})
	if d := time.Since(first); d < 0 || d > 5*time.Second {
		t.Errorf("caught up at %v, %v ago", first, d)
	}
	srv.Exec(t, "INSERT INTO inventory.warehouse VALUES (1, 'WH-AMS', 1)")
	select {
	case tx := <-txs:
		if len(tx.Changes) != 1 {
			t.Fatalf("read %d changes, want 1", len(tx.Changes))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the INSERT was not read")
	}
	// The heartbeat period is 1 s: the next one comes after the INSERT.
	later := waitCaughtUp(first)

	// A busy table that is not relayed leaves the server no idle second to
	// send heartbeats in; the commits move the time forward instead.
	srv.Exec(t, "CREATE TABLE inventory.other (id INT PRIMARY KEY)")
	start := time.Now()
	for i := 0; time.Since(start) < 2500*time.Millisecond; i++ {
		srv.Exec(t, fmt.Sprintf("INSERT INTO inventory.other VALUES (%d)", i))
		time.Sleep(100 * time.Millisecond) // a write rate, not a synchronisation
	}
	if at := s.CaughtUpAt(); at.Before(start.Add(1500 * time.Millisecond)) {
		t.Errorf("caught up at %v after 2.5 s of commits from %v (heartbeat before: %v)", at, start, later)
	}
}
