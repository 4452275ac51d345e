// Package mariadbtest starts a private MariaDB server for tests: its own
// data directory in a temporary folder, a free port on 127.0.0.1, binlog on
// in ROW format with full row images and metadata. It never touches a server
// that is already running.
//
// Tests only; it imports no production package.
package mariadbtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server is a running private MariaDB server.
type Server struct {
	Dir  string // data directory
	Port int
	cmd  *exec.Cmd
	done chan struct{}

	mu  sync.Mutex         // protects dbs
	dbs map[string]*sql.DB // handles by database name, closed at the end of the test
}

// Schema returns the project's schema file contents.
func Schema(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "schema", "schema.sql"))
	if err != nil {
		tb.Fatalf("read schema: %v", err)
	}
	return string(b)
}

// Start starts a server, creates database "inventory" with the project's
// schema, and stops the server when the test ends. It fails the test if
// mariadbd is not installed (make test installs it).
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{Dir: tb.TempDir()}
	// A private temporary directory: concurrent installs sharing /tmp
	// collide on their temporary tables.
	tmp := filepath.Join(s.Dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		tb.Fatal(err)
	}
	install := exec.Command("mariadb-install-db", "--no-defaults", "--user=root",
		"--datadir="+filepath.Join(s.Dir, "data"), "--tmpdir="+tmp, "--auth-root-authentication-method=normal",
		"--skip-test-db")
	install.Env = append(os.Environ(), "TMPDIR="+tmp)
	if out, err := install.CombinedOutput(); err != nil {
		tb.Fatalf("mariadb-install-db (run `make deps` to install MariaDB): %v\n%s", err, out)
	}
	// mariadbd cannot be handed a listener, and --port=0 means its
	// default port: pick a free port, and pick again if another process
	// took it before mariadbd bound it.
	for attempt := 1; ; attempt++ {
		s.Port = freePort(tb)
		err := s.launch()
		if err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() { s.Stop(tb) })
	db := s.DB(tb, "")
	for _, stmt := range []string{
		"DELETE FROM mysql.user WHERE user = ''",
		"FLUSH PRIVILEGES",
		"CREATE DATABASE IF NOT EXISTS inventory",
	} {
		if _, err := db.Exec(stmt); err != nil {
			tb.Fatalf("%s: %v", stmt, err)
		}
	}
	s.Exec(tb, Schema(tb))
	return s
}

// errPortTaken: mariadbd could not bind its port.
var errPortTaken = errors.New("mariadbd: port taken")

// launch starts mariadbd on s.Port and waits until it answers.
func (s *Server) launch() error {
	data := filepath.Join(s.Dir, "data")
	errLog := filepath.Join(s.Dir, "err.log")
	logStart := int64(0)
	if fi, err := os.Stat(errLog); err == nil {
		logStart = fi.Size()
	}
	s.cmd = exec.Command("mariadbd", "--no-defaults", "--user=root",
		"--datadir="+data, "--tmpdir="+filepath.Join(s.Dir, "tmp"), "--socket="+filepath.Join(s.Dir, "sock"),
		fmt.Sprintf("--port=%d", s.Port), "--bind-address=127.0.0.1",
		"--pid-file="+filepath.Join(s.Dir, "pid"), "--log-error="+errLog,
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
		"--log-bin=mysql-bin", "--binlog-format=ROW", "--binlog-row-image=FULL",
		"--binlog-row-metadata=FULL", "--server-id=1",
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=32M", "--skip-name-resolve",
		"--max-connections=500", "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0")
	s.cmd.Env = append(os.Environ(), "TMPDIR="+filepath.Join(s.Dir, "tmp"))
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("mysql", s.DSN(""))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			s.cmd = nil
			log, _ := os.ReadFile(errLog)
			if int64(len(log)) >= logStart {
				log = log[logStart:]
			}
			if bytes.Contains(log, []byte("Address already in use")) || bytes.Contains(log, []byte("Bind on TCP/IP port")) {
				return fmt.Errorf("%w: %d\n%s", errPortTaken, s.Port, log)
			}
			return fmt.Errorf("mariadbd exited during start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbd not ready after 30s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts the server down (SIGTERM) and waits for it to exit.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port and data.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop(tb)
	if err := s.launch(); err != nil {
		tb.Fatal(err)
	}
}

// Addr returns host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// DSN returns a go-sql-driver DSN for user root on database db ("" for none).
func (s *Server) DSN(db string) string {
	c := mysql.NewConfig()
	c.User = "root"
	c.Net = "tcp"
	c.Addr = s.Addr()
	c.DBName = db
	c.MultiStatements = true
	c.Timeout = 5 * time.Second
	return c.FormatDSN()
}

// DB returns a handle (a pool) on database db, shared by the test and
// closed when it ends.
func (s *Server) DB(tb testing.TB, db string) *sql.DB {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.dbs[db]; ok {
		return h
	}
	h, err := sql.Open("mysql", s.DSN(db))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	if s.dbs == nil {
		s.dbs = map[string]*sql.DB{}
	}
	s.dbs[db] = h
	tb.Cleanup(func() { h.Close() })
	return h
}

// Exec runs statements (separated by semicolons) on database inventory.
func (s *Server) Exec(tb testing.TB, stmts string, args ...any) {
	tb.Helper()
	db := s.DB(tb, "inventory")
	if _, err := db.ExecContext(context.Background(), stmts, args...); err != nil {
		tb.Fatalf("exec %q: %v", strings.TrimSpace(stmts)[:min(60, len(strings.TrimSpace(stmts)))], err)
	}
}

// QueryCount returns the server's count of statements of the given kind
// (e.g. "Com_select") so far, read from SHOW GLOBAL STATUS.
func (s *Server) QueryCount(tb testing.TB, variable string) int64 {
	tb.Helper()
	db := s.DB(tb, "")
	var name string
	var n int64
	if !validName(variable) {
		tb.Fatalf("bad status variable name %q", variable)
	}
	err := db.QueryRow("SHOW GLOBAL STATUS LIKE '"+variable+"'").Scan(&name, &n)
	if errors.Is(err, sql.ErrNoRows) {
		tb.Fatalf("no status variable %s", variable)
	}
	if err != nil {
		tb.Fatalf("show status: %v", err)
	}
	return n
}

// freePort returns a port that was free a moment ago (see Start).
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func validName(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
