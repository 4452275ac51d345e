package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

// runSeed is `gintoki-bench seed`: it creates (or reuses, if it already
// holds exactly the products asked for) the memory phase's large
// database, with the code that phase runs, so that scripts can use the
// same data. The rows are inserted with the binlog off.
func runSeed(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg config
	env := benchEnv(os.LookupEnv)
	fs := newFlagSet("seed", env, stderr)
	fs.StringVar(&cfg.DBDSN, "db-dsn", "root@tcp(127.0.0.1:3307)/inventory", "DSN of a database user that may create a database")
	fs.StringVar(&cfg.MemDatabase, "mem-database", "inventory_1m", "the database to create and seed")
	fs.IntVar(&cfg.MemProducts, "mem-products", 1_000_000, "products to seed: ids 1..N, each in 1 to 5 warehouses")
	fs.StringVar(&cfg.Schema, "schema", "schema/schema.sql", "the tables' definition")
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	if !identRE.MatchString(cfg.MemDatabase) {
		return fmt.Errorf("--mem-database %q: letters, digits and _ only", cfg.MemDatabase)
	}
	if cfg.MemProducts <= 0 {
		return errors.New("--mem-products must be positive")
	}
	dsn, err := mysql.ParseDSN(cfg.DBDSN)
	if err != nil {
		return fmt.Errorf("--db-dsn: %w", err)
	}
	db, err := sql.Open("mysql", cfg.DBDSN)
	if err != nil {
		return fmt.Errorf("--db-dsn: %w", err)
	}
	defer db.Close()
	b := &bench{cfg: cfg, log: stderr, db: db}
	start := time.Now()
	seeded, err := b.seedMemoryDB(ctx, *dsn)
	if err != nil {
		return err
	}
	if seeded {
		b.waitFlushed(ctx)
		b.logf("seeded %s with %d products in %s", cfg.MemDatabase, cfg.MemProducts, time.Since(start).Round(time.Millisecond))
	} else {
		b.logf("%s already holds %d products", cfg.MemDatabase, cfg.MemProducts)
	}
	return ctx.Err()
}
