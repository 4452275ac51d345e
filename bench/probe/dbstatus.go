package probe

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"time"
)

// DBStatus is one reading of the database's global query counters.
type DBStatus struct {
	At        time.Time
	Questions float64 // statements sent by clients (SHOW GLOBAL STATUS Questions)
	Selects   float64 // of which SELECTs (Com_select)
	RowsRead  float64 // rows read (Rows_read)
}

// ReadDBStatus reads the counters once.
func ReadDBStatus(ctx context.Context, db *sql.DB) (DBStatus, error) {
	st := DBStatus{At: time.Now()}
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_select', 'Rows_read')")
	if err != nil {
		return st, fmt.Errorf("database status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v float64
		if err := rows.Scan(&name, &v); err != nil {
			return st, fmt.Errorf("database status: %w", err)
		}
		switch name {
		case "Questions":
			st.Questions = v
		case "Com_select":
			st.Selects = v
		case "Rows_read":
			st.RowsRead = v
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("database status: %w", err)
	}
	return st, nil
}

// SampleDBStatus reads the counters every interval until ctx ends and
// returns the readings. A failed reading is skipped (the rate then spans
// two intervals); the first error is returned with the readings.
func SampleDBStatus(ctx context.Context, db *sql.DB, interval time.Duration) ([]DBStatus, error) {
	return sampleEvery(ctx, interval, func() (DBStatus, error) { return ReadDBStatus(ctx, db) })
}

// sampleEvery calls read every interval until ctx ends and returns the
// readings that succeeded, and the first error of one that failed before
// ctx ended.
func sampleEvery[T any](ctx context.Context, interval time.Duration, read func() (T, error)) ([]T, error) {
	var (
		out      []T
		firstErr error
	)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		v, err := read()
		switch {
		case err == nil:
			out = append(out, v)
		case ctx.Err() == nil && firstErr == nil:
			firstErr = err
		}
		select {
		case <-ctx.Done():
			return out, firstErr
		case <-t.C:
		}
	}
}

// ComSelect reads the server's SELECT count.
func ComSelect(ctx context.Context, db *sql.DB) (int64, error) {
	var name string
	var v int64
	if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Com_select'").Scan(&name, &v); err != nil {
		return 0, fmt.Errorf("read Com_select: %w", err)
	}
	return v, nil
}

// MariaDBPID returns the pid of the benchmark's MariaDB if it runs on this
// machine (its pid file is readable and names a mariadbd), else 0.
func MariaDBPID(ctx context.Context, db *sql.DB) int {
	var path string
	if err := db.QueryRowContext(ctx, "SELECT @@pid_file").Scan(&path); err != nil {
		return 0
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var pid int
	if _, err := fmt.Sscan(string(raw), &pid); err != nil || pid <= 0 {
		return 0
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || !regexp.MustCompile(`^(mariadbd|mysqld)\s*$`).Match(comm) {
		return 0
	}
	return pid
}
