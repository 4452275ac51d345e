package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// dbStatus is one reading of the database's global query counters.
type dbStatus struct {
	At        time.Time
	Questions float64 // statements sent by clients (SHOW GLOBAL STATUS Questions)
	Selects   float64 // of which SELECTs (Com_select)
}

// readDBStatus reads the counters once.
func readDBStatus(ctx context.Context, db *sql.DB) (dbStatus, error) {
	st := dbStatus{At: time.Now()}
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_select')")
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
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("database status: %w", err)
	}
	return st, nil
}

// sampleDBStatus reads the counters every interval until ctx ends and
// returns the readings. A failed reading is skipped (the rate then spans
// two intervals); the first error is returned with the readings.
func sampleDBStatus(ctx context.Context, db *sql.DB, interval time.Duration) ([]dbStatus, error) {
	var (
		out      []dbStatus
		firstErr error
	)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := readDBStatus(ctx, db)
		switch {
		case err == nil:
			out = append(out, st)
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

// dbRates returns the queries and SELECTs per second the database ran
// inside spans: the counters' growth between the first and the last
// reading inside each span, over the time between them. ok is false when
// no span holds two readings.
func dbRates(readings []dbStatus, spans []span) (questions, selects float64, ok bool) {
	var dq, ds float64
	var dt time.Duration
	for _, sp := range spans {
		var first, last *dbStatus
		for i := range readings {
			r := &readings[i]
			if !sp.contains(r.At) {
				continue
			}
			if first == nil {
				first = r
			}
			last = r
		}
		if first == nil || last == first {
			continue
		}
		dq += last.Questions - first.Questions
		ds += last.Selects - first.Selects
		dt += last.At.Sub(first.At)
	}
	if dt <= 0 {
		return 0, 0, false
	}
	return dq / dt.Seconds(), ds / dt.Seconds(), true
}
