// Package binlog reads row changes from a MySQL or MariaDB binary log, as a
// replica does, for the relay: it is the relay.Source adapter over
// go-mysql's replication.BinlogSyncer.
//
// Column names and primary keys come only from each event's table map
// (binlog_row_metadata=FULL), never from the current schema, so events
// replayed after an ALTER TABLE carry the names they were written with.
//
// It imports the domain and the relay's ports (relay.Source, relay.Stream);
// never app or another adapter.
package binlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-sql-driver/mysql"

	"github.com/gintoki/gintoki/relay"
)

// Server flavors.
const (
	FlavorMariaDB = gomysql.MariaDBFlavor
	FlavorMySQL   = gomysql.MySQLFlavor
)

// SQL the source runs besides the replication protocol.
const (
	queryVersion = "SELECT VERSION()"
	// MariaDB 10.5.2+ and MySQL 8.2+ renamed SHOW MASTER STATUS; older
	// servers only know the old name, the newest only the new.
	queryMariaDBStatus = "SHOW BINLOG STATUS"
	queryMySQLStatus   = "SHOW BINARY LOG STATUS"
	queryMasterStatus  = "SHOW MASTER STATUS"
)

// Config says which server to read and what to keep.
type Config struct {
	Addr     string   // host:port
	User     string   // needs REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR on MariaDB)
	Password string   //
	Database string   // the database whose tables are relayed
	Tables   []string // the tables relayed; changes to others are skipped
	// ServerID identifies the relay to the server as a replica; it must
	// differ from the server's and every other replica's.
	ServerID uint32
	// Flavor is FlavorMariaDB or FlavorMySQL; empty detects it from
	// SELECT VERSION().
	Flavor string
	// PartSize is how many row changes of a transaction are handed on at
	// once (DefaultPartSize if zero): a larger transaction comes in parts,
	// so the relay's memory does not grow with it.
	PartSize int
	Logger   *slog.Logger // nil discards logs
}

// DefaultPartSize is Config.PartSize's default: large enough that the
// relay's per-part work is small beside the rows', small enough that a part
// is a few hundred kilobytes.
const DefaultPartSize = 1024

// Source opens binlog streams. It satisfies relay.Source.
type Source struct {
	cfg  Config
	host string
	port uint16
	log  *slog.Logger
}

var _ relay.Source = (*Source)(nil)

// New checks cfg and returns a Source. It does not connect.
func New(cfg Config) (*Source, error) {
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("binlog: address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("binlog: port of %q: %w", cfg.Addr, err)
	}
	switch {
	case cfg.ServerID == 0:
		return nil, errors.New("binlog: server id must not be 0")
	case cfg.Database == "":
		return nil, errors.New("binlog: no database")
	case len(cfg.Tables) == 0:
		return nil, errors.New("binlog: no tables")
	case cfg.Flavor != "" && cfg.Flavor != FlavorMariaDB && cfg.Flavor != FlavorMySQL:
		return nil, fmt.Errorf("binlog: unknown flavor %q (want %s or %s)", cfg.Flavor, FlavorMariaDB, FlavorMySQL)
	}
	if cfg.PartSize <= 0 {
		cfg.PartSize = DefaultPartSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, host: host, port: uint16(port), log: log}, nil
}

// Open implements relay.Source. It refuses to start if Preflight fails.
// With a zero from it starts at the server's current end of binlog.
func (s *Source) Open(ctx context.Context, from relay.BinlogPosition) (relay.Stream, relay.BinlogPosition, error) {
	syncer, events, start, err := s.dial(ctx, from)
	if err != nil {
		return nil, relay.BinlogPosition{}, err
	}
	tables := make(map[string]bool, len(s.cfg.Tables))
	for _, t := range s.cfg.Tables {
		tables[t] = true
	}
	return &stream{
		src:      s,
		syncer:   syncer,
		events:   events,
		database: s.cfg.Database,
		tables:   tables,
		resume:   start,
		partSize: s.cfg.PartSize,
		shapes:   map[*replication.TableMapEvent]tableShape{},
	}, start, nil
}

// dial checks the server (flavor, Preflight) and starts a binlog dump at
// from, or at the current end of the binlog if from is zero.
func (s *Source) dial(ctx context.Context, from relay.BinlogPosition) (*replication.BinlogSyncer, *replication.BinlogStreamer, relay.BinlogPosition, error) {
	db, err := s.openDB()
	if err != nil {
		return nil, nil, relay.BinlogPosition{}, err
	}
	defer db.Close()

	var version string
	if err := db.QueryRowContext(ctx, queryVersion).Scan(&version); err != nil {
		return nil, nil, relay.BinlogPosition{}, fmt.Errorf("connect to %s: %w", s.cfg.Addr, err)
	}
	flavor := s.cfg.Flavor
	if flavor == "" {
		flavor = FlavorMySQL
		if strings.Contains(strings.ToLower(version), "mariadb") {
			flavor = FlavorMariaDB
		}
	}
	if err := Preflight(ctx, db); err != nil {
		return nil, nil, relay.BinlogPosition{}, err
	}
	if from.IsZero() {
		if from, err = currentPosition(ctx, db, flavor); err != nil {
			return nil, nil, relay.BinlogPosition{}, err
		}
	} else if err := checkNotPurged(ctx, db, from); err != nil {
		return nil, nil, relay.BinlogPosition{}, err
	}
	if from.Pos > math.MaxUint32 {
		return nil, nil, relay.BinlogPosition{}, fmt.Errorf("binlog position %v out of range", from)
	}
	s.log.Info("binlog dump starting", "addr", s.cfg.Addr, "version", version, "flavor", flavor,
		"file", from.File, "pos", from.Pos)

	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: s.cfg.ServerID,
		Flavor:   flavor,
		Host:     s.host,
		Port:     s.port,
		User:     s.cfg.User,
		Password: s.cfg.Password,
		Logger:   slog.New(syncerLogHandler{s.log.Handler()}).With("component", "binlog-syncer"),
		// The stream reconnects by itself (see stream.reconnect): the
		// syncer's own retry KILLs its old connection id, which after a
		// server restart may belong to another client.
		DisableRetrySync: true,
		// A heartbeat every few seconds lets the read timeout tell a dead
		// connection from a quiet server.
		HeartbeatPeriod: time.Second, // how soon an idle stream says it is caught up (relay heartbeats)

		ReadTimeout:             20 * time.Second,
		TimestampStringLocation: time.UTC,
		DiscardGTIDSet:          true,
		EventCacheCount:         64, // events decoded ahead of the reader; bounds memory with the parts
	})
	events, err := syncer.StartSync(gomysql.Position{Name: from.File, Pos: uint32(from.Pos)})
	if err != nil {
		syncer.Close()
		return nil, nil, relay.BinlogPosition{}, fmt.Errorf("start binlog dump at %v: %w", from, err)
	}
	return syncer, events, from, nil
}

func (s *Source) openDB() (*sql.DB, error) {
	c := mysql.NewConfig()
	c.User = s.cfg.User
	c.Passwd = s.cfg.Password
	c.Net = "tcp"
	c.Addr = s.cfg.Addr
	c.Timeout = 10 * time.Second
	connector, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("binlog: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	return db, nil
}

// currentPosition returns the end of the server's binary log.
func currentPosition(ctx context.Context, db *sql.DB, flavor string) (relay.BinlogPosition, error) {
	queries := []string{queryMySQLStatus, queryMasterStatus}
	if flavor == FlavorMariaDB {
		queries = []string{queryMariaDBStatus, queryMasterStatus}
	}
	var errs []error
	for _, q := range queries {
		p, err := queryPosition(ctx, db, q)
		if err == nil {
			return p, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", q, err))
	}
	return relay.BinlogPosition{}, fmt.Errorf("read current binlog position: %w", errors.Join(errs...))
}

func queryPosition(ctx context.Context, db *sql.DB, query string) (relay.BinlogPosition, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return relay.BinlogPosition{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return relay.BinlogPosition{}, err
	}
	if len(cols) < 2 {
		return relay.BinlogPosition{}, fmt.Errorf("%d columns, want File and Position first", len(cols))
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return relay.BinlogPosition{}, err
		}
		return relay.BinlogPosition{}, errors.New("no row: binary logging is off")
	}
	vals := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return relay.BinlogPosition{}, err
	}
	pos, err := strconv.ParseUint(string(vals[1]), 10, 64)
	if err != nil {
		return relay.BinlogPosition{}, fmt.Errorf("position %q: %w", vals[1], err)
	}
	p := relay.BinlogPosition{File: string(vals[0]), Pos: pos}
	if err := rows.Close(); err != nil {
		return relay.BinlogPosition{}, err
	}
	return p, nil
}
