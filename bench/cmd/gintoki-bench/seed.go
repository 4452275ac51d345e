package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gintoki/gintoki/bench/stack"
	"github.com/go-sql-driver/mysql"
)

// runSeed is `gintoki-bench seed`: it creates (or reuses, if it already
// holds exactly the products asked for) the memory phase's large
// database, with the code that phase runs, so that scripts can use the
// same data. The rows are inserted with the binlog off.
func runSeed(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg stack.Seed
	var dsnText string
	env := benchEnv(os.LookupEnv)
	fs := newFlagSet("seed", env, stderr)
	fs.StringVar(&dsnText, "db-dsn", "root@tcp(127.0.0.1:3307)/inventory", "DSN of a database user that may create a database")
	fs.StringVar(&cfg.Database, "mem-database", "inventory_1m", "the database to create and seed")
	fs.IntVar(&cfg.Products, "mem-products", 1_000_000, "products to seed: ids 1..N, each in 1 to 5 warehouses")
	fs.StringVar(&cfg.Schema, "schema", "schema/schema.sql", "the tables' definition")
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	if !stack.DatabaseNameRE.MatchString(cfg.Database) {
		return fmt.Errorf("--mem-database %q: letters, digits and _ only", cfg.Database)
	}
	if cfg.Products <= 0 {
		return errors.New("--mem-products must be positive")
	}
	dsn, err := mysql.ParseDSN(dsnText)
	if err != nil {
		return fmt.Errorf("--db-dsn: %w", err)
	}
	db, err := sql.Open("mysql", dsnText)
	if err != nil {
		return fmt.Errorf("--db-dsn: %w", err)
	}
	defer db.Close()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	start := time.Now()
	cfg.DSN = *dsn
	seeded, err := stack.SeedMemoryDB(ctx, cfg, logf)
	if err != nil {
		return err
	}
	if seeded {
		stack.WaitFlushed(ctx, db, logf)
		logf("seeded %s with %d products in %s", cfg.Database, cfg.Products, time.Since(start).Round(time.Millisecond))
	} else {
		logf("%s already holds %d products", cfg.Database, cfg.Products)
	}
	return ctx.Err()
}
