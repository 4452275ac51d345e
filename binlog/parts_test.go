package binlog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/relay"
)

// A transaction larger than the part size is handed on in parts as it is
// read: every part but the last says more follow and carries no position;
// the last carries the position after the commit. Together they hold every
// row once, in order.
func TestStreamHandsOnLargeTransactionInParts(t *testing.T) {
	srv := mariadbtest.Start(t)
	src, err := binlog.New(binlog.Config{
		Addr: srv.Addr(), User: "root", Database: "inventory",
		Tables: []string{"warehouse", "warehouse_stock_item"}, ServerID: 1001, PartSize: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := open(t, src, relay.BinlogPosition{})
	srv.Exec(t, "INSERT INTO warehouse_stock_item SELECT seq, 1, seq FROM seq_1_to_1000")
	var rows []relay.RowChange
	parts := 0
	for {
		tx := next(t, s)
		parts++
		rows = append(rows, tx.Changes...)
		if !tx.More {
			if tx.End.IsZero() {
				t.Fatal("last part without an end position")
			}
			break
		}
		if !tx.End.IsZero() {
			t.Fatalf("part %d carries a position %v", parts, tx.End)
		}
		// A part ends at the rows event that fills it; one event holds at
		// most binlog_row_event_max_size (8 KiB) of rows.
		if len(tx.Changes) > 100+1000 {
			t.Fatalf("part %d holds %d changes, part size 100", parts, len(tx.Changes))
		}
	}
	if len(rows) != 1000 || parts < 2 {
		t.Fatalf("%d changes in %d parts, want 1000 in several", len(rows), parts)
	}
	for i, c := range rows {
		if got := c.After["product_id"]; got != int32(i+1) && got != int64(i+1) {
			t.Fatalf("change %d is product %v (%T)", i, got, got)
		}
	}
}

// A saved position whose binlog file has been purged is refused with a
// message that says what to do, never skipped silently.
func TestOpenRefusesPurgedPosition(t *testing.T) {
	srv := mariadbtest.Start(t)
	src := newSource(t, srv)
	first, start := open(t, src, relay.BinlogPosition{})
	// The server does not purge a file a connected reader still uses: stop
	// reading first, and purge until the file is gone (the server ends its
	// side of the stream a moment later).
	first.Close()
	srv.Exec(t, "FLUSH BINARY LOGS")
	var file string
	var pos uint64
	if err := srv.DB(t, "").QueryRow("SHOW BINLOG STATUS").Scan(&file, &pos, new(any), new(any)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv.Exec(t, "PURGE BINARY LOGS TO '"+file+"'")
		var oldest string
		if err := srv.DB(t, "").QueryRow("SHOW BINARY LOGS").Scan(&oldest, new(any)); err != nil {
			t.Fatal(err)
		}
		if oldest != start.File {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still not purged after 10s", start.File)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := src.Open(ctx, start)
	var pe *binlog.PurgedError
	if !errors.As(err, &pe) {
		t.Fatalf("Open at a purged position = %v, want a PurgedError", err)
	}
	for _, want := range []string{start.File, "--reset-checkpoint", "restore"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
