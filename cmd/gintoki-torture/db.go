package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gintoki/gintoki/schema"
)

// mariadbProc is a private MariaDB server: data, socket, temporary files
// and error log under dir/db, listening on 127.0.0.1 on a free port, binlog
// in ROW format with full row images and metadata.
func (s *stack) mariadbProc() *proc {
	d := filepath.Join(s.dir, "db")
	return &proc{name: "db", log: filepath.Join(d, "out.log"), env: []string{"TMPDIR=" + filepath.Join(d, "tmp")},
		args: []string{mariadbd(), "--no-defaults", "--user=root",
			"--datadir=" + filepath.Join(d, "data"), "--tmpdir=" + filepath.Join(d, "tmp"), "--socket=" + filepath.Join(d, "sock"),
			"--port=" + strconv.Itoa(s.dbPort), "--bind-address=127.0.0.1",
			"--pid-file=" + filepath.Join(d, "pid"), "--log-error=" + filepath.Join(d, "err.log"),
			"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
			"--log-bin=mysql-bin", "--binlog-format=ROW", "--binlog-row-image=FULL",
			"--binlog-row-metadata=FULL", "--server-id=1",
			"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--skip-name-resolve",
			"--max-connections=200", "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0"}}
}

// mariadbd finds the server binary (Debian puts it in /usr/sbin, often
// not on PATH).
func mariadbd() string {
	if p, err := exec.LookPath("mariadbd"); err == nil {
		return p
	}
	return "/usr/sbin/mariadbd"
}

// startDB creates the data directory on first use, starts the server and
// waits until it answers; the first time it also creates database
// inventory with the schema.
func (s *stack) startDB(ctx context.Context) error {
	d := filepath.Join(s.dir, "db")
	first := false
	if _, err := os.Stat(filepath.Join(d, "data")); os.IsNotExist(err) {
		first = true
		if err := mkdir(filepath.Join(d, "tmp")); err != nil {
			return err
		}
		install := exec.CommandContext(ctx, "mariadb-install-db", "--no-defaults", "--user=root",
			"--datadir="+filepath.Join(d, "data"), "--tmpdir="+filepath.Join(d, "tmp"),
			"--auth-root-authentication-method=normal", "--skip-test-db")
		install.Env = append(os.Environ(), "TMPDIR="+filepath.Join(d, "tmp"), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		if out, err := install.CombinedOutput(); err != nil {
			return fmt.Errorf("mariadb-install-db (make deps installs MariaDB): %w\n%s", err, out)
		}
	}
	if err := s.db.start(); err != nil {
		return err
	}
	root := mysql.NewConfig()
	root.User, root.Net, root.Addr, root.Timeout = "root", "tcp", fmt.Sprintf("127.0.0.1:%d", s.dbPort), time.Second
	root.MultiStatements = true
	err := s.db.waitFor(60*time.Second, "database ping", func() error {
		db, err := sql.Open("mysql", root.FormatDSN())
		if err != nil {
			return err
		}
		defer db.Close()
		return db.PingContext(ctx)
	})
	if err != nil || !first {
		return err
	}
	db, err := sql.Open("mysql", root.FormatDSN())
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	setup := "DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES; CREATE DATABASE inventory; USE inventory;" + schema.SQL
	if _, err := db.ExecContext(ctx, setup); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

// seedSQL renders the initial rows of the model as INSERT statements.
func seedSQL(m *model) string {
	var b strings.Builder
	b.WriteString("INSERT INTO warehouse (id, code, is_active) VALUES ")
	for w := 1; w <= m.warehouses; w++ {
		if w > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "(%d,'%s',%d)", w, warehouseCode(w, m.whSeq[w-1]), b2i(m.whLive[w-1]))
	}
	b.WriteString(";\nINSERT INTO warehouse_stock_item (product_id, warehouse_id, qty_salable) VALUES ")
	first := true
	for p := 1; p <= m.products; p++ {
		for w := 1; w <= m.warehouses; w++ {
			if q := m.qty(int64(p), w); q > 0 {
				if !first {
					b.WriteByte(',')
				}
				first = false
				fmt.Fprintf(&b, "(%d,%d,%d)", p, w, q)
			}
		}
	}
	b.WriteString(";")
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
