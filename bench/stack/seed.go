package stack

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Logf prints one progress line.
type Logf func(format string, args ...any)

// WaitFlushed waits (up to 3 minutes) until InnoDB has written back
// nearly all dirty pages: a bulk insert leaves InnoDB flushing for a while,
// and loads measured meanwhile would measure the flushing.
func WaitFlushed(ctx context.Context, db *sql.DB, logf Logf) {
	deadline := time.Now().Add(3 * time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		var name string
		var dirty int64
		if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'").Scan(&name, &dirty); err != nil || dirty < 500 {
			return
		}
		logf("  waiting for InnoDB to flush %d dirty pages after seeding", dirty)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// Seed is a large database to create: the memory and cold phases' (and
// scripts/fleet.sh's, through `gintoki-bench seed`).
type Seed struct {
	DSN      mysql.Config // a user that may create a database; its database name is ignored
	Database string       // the database to create and fill (letters, digits and _: see DatabaseNameRE)
	Products int          // ids 1..Products
	Schema   string       // path of the tables' definition (schema/schema.sql)
}

// SeedMemoryDB creates s.Database with the project's schema and the demo
// data's 8 warehouses, and fills it with s.Products products (1–5 stock
// rows each, by the same formula as scripts/mariadb.sh) unless it already
// holds exactly that; seeded says whether it filled it. The rows are
// inserted with the session's binlog off: the relay has nothing to do with
// them.
func SeedMemoryDB(ctx context.Context, s Seed, logf Logf) (seeded bool, err error) {
	dsn, name, n := s.DSN, s.Database, s.Products
	schema, err := os.ReadFile(s.Schema)
	if err != nil {
		return false, fmt.Errorf("seed %s: %w", name, err)
	}
	dsn.DBName = ""
	dsn.MultiStatements = true
	db, err := sql.Open("mysql", dsn.FormatDSN())
	if err != nil {
		return false, fmt.Errorf("seed %s: %w", name, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // one session: USE and sql_log_bin are per session
	if err != nil {
		return false, fmt.Errorf("seed %s: %w", name, err)
	}
	defer conn.Close()
	run := func(q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed %s: %.80s…: %w", name, strings.TrimSpace(q), err)
		}
		return nil
	}
	if err := run("CREATE DATABASE IF NOT EXISTS " + name); err != nil {
		return false, err
	}
	if err := run("USE " + name); err != nil {
		return false, err
	}
	if err := run(string(schema)); err != nil {
		return false, err
	}
	if err := run(`INSERT IGNORE INTO warehouse (id, code, is_active) VALUES
		(1, 'WH-AMS', 1), (2, 'WH-BER', 1), (3, 'WH-CDG', 1), (4, 'WH-MAD', 1),
		(5, 'WH-MIL', 1), (6, 'WH-WAW', 1), (7, 'WH-VIE', 0), (8, 'WH-CPH', 1)`); err != nil {
		return false, err
	}
	var want, have int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT SUM(1 + CRC32(CONCAT('n', seq)) %% 5) FROM seq_1_to_%d", n)).Scan(&want); err != nil {
		return false, fmt.Errorf("seed %s: expected row count: %w", name, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM warehouse_stock_item").Scan(&have); err != nil {
		return false, fmt.Errorf("seed %s: row count: %w", name, err)
	}
	if have == want {
		return false, nil
	}
	logf("  seeding %s: %d stock rows for %d products (has %d)", name, want, n, have)
	if err := run("SET SESSION sql_log_bin = 0"); err != nil {
		logf("  could not turn the binlog off for seeding (the relay will skip the rows): %v", err)
	}
	if err := run("TRUNCATE TABLE warehouse_stock_item"); err != nil {
		return false, err
	}
	const chunk = 100_000
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		if err := run(fmt.Sprintf(`INSERT INTO warehouse_stock_item (product_id, warehouse_id, qty_salable)
			SELECT p.seq,
			       (CRC32(CONCAT('w', p.seq)) + s.seq * (1 + 2 * (p.seq %% 4))) %% 8 + 1,
			       CRC32(CONCAT('q', p.seq, ':', s.seq)) %% 1000
			FROM seq_%d_to_%d AS p
			JOIN seq_0_to_4 AS s ON s.seq < 1 + CRC32(CONCAT('n', p.seq)) %% 5`, lo, hi)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// DatabaseNameRE matches the database names the benchmark puts into SQL.
var DatabaseNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
