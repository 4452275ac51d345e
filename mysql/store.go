// Package mysql reads product stock and warehouses from MySQL/MariaDB for
// cache fills, each load in one consistent snapshot whose position in the
// binlog it reports; and, as Direct, answers reads from the database alone
// (the database-only baseline). It imports the domain and the app ports,
// never another adapter.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// Config names the tables and tunes the pool.
type Config struct {
	DSN            string // go-sql-driver DSN, e.g. "gintoki@tcp(127.0.0.1:3306)/inventory"
	StockTable     string // default "warehouse_stock_item"
	WarehouseTable string // default "warehouse"
	MaxOpenConns   int    // default 32
}

// Store implements app.Store over database/sql.
type Store struct {
	db        *sql.DB
	stockSQL  string // prefix of the stock query; ids are appended
	rangeSQL  string // prefix of the stock query of a range; "lo AND hi" is appended
	stockEnd  string // what follows the ids
	directEnd string // what follows the ids for Direct: the warehouses too
	whSQL     string
	listSQL   string // a page of product ids (ProductIDs)
	log       *slog.Logger
	latency   *prometheus.HistogramVec
	batch     prometheus.Histogram // ids per product load
	loadsErrs *prometheus.CounterVec
}

var _ app.Store = (*Store)(nil)

// snapshotBegin starts a read-only transaction whose snapshot is consistent
// with a binlog position, and reads that position. MariaDB reports it in
// binlog_snapshot_file/binlog_snapshot_position for the session's
// consistent snapshot.
const snapshotBegin = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY; " +
	"SHOW STATUS WHERE Variable_name IN ('binlog_snapshot_file', 'binlog_snapshot_position'); "

// Open validates cfg and opens a pool. It does not connect.
func Open(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Store, error) {
	if cfg.StockTable == "" {
		cfg.StockTable = "warehouse_stock_item"
	}
	if cfg.WarehouseTable == "" {
		cfg.WarehouseTable = "warehouse"
	}
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = 32
	}
	for _, t := range []string{cfg.StockTable, cfg.WarehouseTable} {
		if !validIdent(t) {
			return nil, fmt.Errorf("table name %q: only letters, digits, _ and $ are allowed", t)
		}
	}
	mc, err := mysql.ParseDSN(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse database DSN: %w", err)
	}
	// One round trip per load: begin, position, select, commit together.
	mc.MultiStatements = true
	if mc.Timeout == 0 {
		mc.Timeout = 2 * time.Second
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("database connector: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxOpenConns)
	db.SetConnMaxLifetime(30 * time.Minute)
	s := &Store{
		db:        db,
		stockSQL:  snapshotBegin + "SELECT product_id, warehouse_id, qty_salable FROM `" + cfg.StockTable + "` WHERE product_id IN (",
		rangeSQL:  snapshotBegin + "SELECT product_id, warehouse_id, qty_salable FROM `" + cfg.StockTable + "` WHERE product_id BETWEEN ",
		stockEnd:  "); COMMIT",
		whSQL:     snapshotBegin + warehouseSelect(cfg.WarehouseTable) + "; COMMIT",
		listSQL:   "SELECT DISTINCT product_id FROM `" + cfg.StockTable + "` WHERE product_id > ? ORDER BY product_id LIMIT ?",
		directEnd: "); " + warehouseSelect(cfg.WarehouseTable) + "; COMMIT",
		log:       log,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gintoki_db_load_duration_seconds",
			Help:    "Latency of database loads (one consistent-snapshot query), by kind and result.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}, []string{"kind", "result"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gintoki_db_load_products",
			Help:    "Product ids asked for per database load of products (fills gather concurrent misses into one load).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000},
		}),
		loadsErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gintoki_db_load_errors_total",
			Help: "Database loads that failed, by kind.",
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(s.latency, s.batch, s.loadsErrs)
	}
	return s, nil
}

func warehouseSelect(table string) string {
	return "SELECT id, code, is_active FROM `" + table + "`"
}

// scanWarehouse reads a warehouse row. is_active is read as an integer:
// MySQL and MariaDB take any non-zero TINYINT(1) as true, and so does
// Gintoki (database/sql would refuse to scan 2 into a bool).
func scanWarehouse(ws *[]inventory.Warehouse) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var (
			w      inventory.Warehouse
			active int64
		)
		if err := rows.Scan(&w.ID, &w.Code, &active); err != nil {
			return err
		}
		w.Active = active != 0
		*ws = append(*ws, w)
		return nil
	}
}

func validIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return inventory.Wrap(inventory.CodeUnavailable, err, "database unreachable")
	}
	return nil
}

// LoadProducts implements app.Store.
func (s *Store) LoadProducts(ctx context.Context, ids []inventory.ProductID) (app.Snapshot, error) {
	return s.loadProducts(ctx, ids, s.stockEnd)
}

// loadProducts runs the stock query for ids, followed by end; more scans
// read the result sets of statements in end.
func (s *Store) loadProducts(ctx context.Context, ids []inventory.ProductID, end string, more ...func(*sql.Rows) error) (app.Snapshot, error) {
	start := time.Now()
	q, wanted := s.stockQuery(ids, end)
	snap := app.Snapshot{Stock: make(map[inventory.ProductID][]inventory.Stock, len(ids))}
	// The rows come in primary-key order, so a product's rows are
	// adjacent: they are collected in one arena and each product gets its
	// part of it, rather than a slice grown row by row.
	arena := make([]inventory.Stock, 0, 4*len(ids))
	cur, from := inventory.ProductID(0), 0
	flush := func() {
		if part := arena[from:len(arena):len(arena)]; len(part) > 0 {
			if prev, ok := snap.Stock[cur]; ok { // not adjacent after all: keep both
				part = append(prev, part...)
			}
			snap.Stock[cur] = part
		}
		from = len(arena)
	}
	scans := []func(*sql.Rows) error{func(rows *sql.Rows) error {
		// Plain integers: database/sql converts them without reflection.
		var p, w, qty int64
		if err := rows.Scan(&p, &w, &qty); err != nil {
			return err
		}
		if qty != int64(int32(qty)) || w != int64(inventory.WarehouseID(w)) {
			return fmt.Errorf("stock row of product %d: warehouse %d or quantity %d out of range", p, w, qty)
		}
		if wanted != nil && !wanted(inventory.ProductID(p)) {
			return nil
		}
		if inventory.ProductID(p) != cur {
			flush()
			cur = inventory.ProductID(p)
		}
		arena = append(arena, inventory.Stock{Warehouse: inventory.WarehouseID(w), Qty: int32(qty)})
		return nil
	}}
	scans = append(scans, more...)
	var err error
	snap.Pos, err = s.query(ctx, q, scans...)
	flush()
	s.observe("products", start, err)
	s.batch.Observe(float64(len(ids)))
	if err != nil {
		return app.Snapshot{}, fmt.Errorf("load %d products: %w", len(ids), err)
	}
	return snap, nil
}

// denseRange is the smallest number of ids for which a dense set is read
// as a range.
const denseRange = 32

// stockQuery returns the stock query for ids followed by end. Ids that
// fill at least half of the range between the smallest and the largest
// (a warm start's chunks, a batch of neighbours) are read as that range:
// one scan of the primary key costs the server about a third of as many
// point lookups. wanted then says which products of the range were asked
// for (nil: all rows are).
func (s *Store) stockQuery(ids []inventory.ProductID, end string) (q string, wanted func(inventory.ProductID) bool) {
	b := make([]byte, 0, len(s.stockSQL)+len(ids)*8+32)
	lo, hi := ids[0], ids[0]
	for _, id := range ids[1:] {
		lo, hi = min(lo, id), max(hi, id)
	}
	if span := uint64(hi - lo); len(ids) >= denseRange && span < 2*uint64(len(ids)) {
		set := make([]uint64, span/64+1)
		for _, id := range ids {
			set[uint64(id-lo)/64] |= 1 << (uint64(id-lo) % 64)
		}
		b = append(b, s.rangeSQL...)
		b = strconv.AppendInt(b, int64(lo), 10)
		b = append(b, " AND "...)
		b = strconv.AppendInt(b, int64(hi), 10)
		b = append(b, strings.TrimPrefix(end, ")")...) // no IN list to close
		return string(b), func(id inventory.ProductID) bool {
			return id >= lo && id <= hi && set[uint64(id-lo)/64]&(1<<(uint64(id-lo)%64)) != 0
		}
	}
	b = append(b, s.stockSQL...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10) // typed integers: no injection
	}
	return string(append(b, end...)), nil
}

// LoadWarehouses implements app.Store.
func (s *Store) LoadWarehouses(ctx context.Context) ([]inventory.Warehouse, inventory.Position, error) {
	start := time.Now()
	var ws []inventory.Warehouse
	pos, err := s.query(ctx, s.whSQL, scanWarehouse(&ws))
	s.observe("warehouses", start, err)
	if err != nil {
		return nil, inventory.Position{}, fmt.Errorf("load warehouses: %w", err)
	}
	return ws, pos, nil
}

func (s *Store) observe(kind string, start time.Time, err error) {
	result := "ok"
	if err != nil {
		result = "error"
		s.loadsErrs.WithLabelValues(kind).Inc()
	}
	s.latency.WithLabelValues(kind, result).Observe(time.Since(start).Seconds())
}

// errNoSnapshotPosition means the server does not report the binlog
// position of a consistent snapshot (MySQL does not; MariaDB does).
var errNoSnapshotPosition = errors.New("the server does not report binlog_snapshot_file/binlog_snapshot_position " +
	"(needs MariaDB with log_bin=ON); see docs/consistency.md")

// query runs one multi-statement snapshot query: the position result set,
// then one data result set per scan function, whose rows go to it.
func (s *Store) query(ctx context.Context, q string, scans ...func(*sql.Rows) error) (inventory.Position, error) {
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return inventory.Position{}, classify(ctx, err)
	}
	defer rows.Close()
	var file string
	var offset uint64
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return inventory.Position{}, classify(ctx, err)
		}
		switch strings.ToLower(name) {
		case "binlog_snapshot_file":
			file = value
		case "binlog_snapshot_position":
			if offset, err = strconv.ParseUint(value, 10, 64); err != nil {
				return inventory.Position{}, fmt.Errorf("binlog_snapshot_position %q: %w", value, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return inventory.Position{}, classify(ctx, err)
	}
	if file == "" {
		return inventory.Position{}, inventory.Wrap(inventory.CodeUnavailable, errNoSnapshotPosition, "database cannot serve consistent fills")
	}
	pos, err := inventory.ParsePosition(file, offset, 0)
	if err != nil {
		return inventory.Position{}, err
	}
	for _, scan := range scans {
		if !rows.NextResultSet() {
			return inventory.Position{}, classify(ctx, fmt.Errorf("missing data result set: %w", rows.Err()))
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				return inventory.Position{}, classify(ctx, err)
			}
		}
		if err := rows.Err(); err != nil {
			return inventory.Position{}, classify(ctx, err)
		}
	}
	// Drain the COMMIT's result so the connection goes back clean.
	for rows.NextResultSet() {
	}
	if err := rows.Err(); err != nil {
		return inventory.Position{}, classify(ctx, err)
	}
	return pos, nil
}

// classify maps a driver error to a domain code: the caller's deadline,
// or the database being unavailable.
func classify(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// The server answered: a schema or permission problem, not an outage.
		return inventory.Wrap(inventory.CodeInternal, err, "database query failed")
	}
	return inventory.Wrap(inventory.CodeUnavailable, err, "database unavailable")
}
