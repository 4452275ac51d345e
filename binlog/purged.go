package binlog

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gintoki/gintoki/relay"
)

const queryBinaryLogs = "SHOW BINARY LOGS"

// PurgedError says that the position the relay would resume from is no
// longer in the server's binary log: the changes between it and the oldest
// file left cannot be relayed, and caches fed by the relay may be stale.
type PurgedError struct {
	From   relay.BinlogPosition // the position asked for
	Oldest string               // the oldest binary log file the server still has
}

// Error implements error, saying what to do.
func (e *PurgedError) Error() string {
	return fmt.Sprintf("binlog file %s of the saved position %v is no longer on the server (oldest: %s): "+
		"the changes committed between that position and the oldest file cannot be relayed. "+
		"Either restore the purged binlog files on the server (then start again), "+
		"or accept the gap: run `gintoki relay --reset-checkpoint` with the same flags (the relay then starts at the current end of the binlog) "+
		"and restart every gintoki serve node so that no cache keeps a value changed in the gap; "+
		"then raise binlog_expire_logs_seconds above the longest time the relay may be down",
		e.From.File, e.From, e.Oldest)
}

// checkNotPurged returns a *PurgedError if from's file is not among the
// server's binary logs.
func checkNotPurged(ctx context.Context, db *sql.DB, from relay.BinlogPosition) error {
	rows, err := db.QueryContext(ctx, queryBinaryLogs)
	if err != nil {
		return fmt.Errorf("list binary logs: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("list binary logs: %w", err)
	}
	oldest := ""
	vals := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("list binary logs: %w", err)
		}
		name := string(vals[0])
		if oldest == "" {
			oldest = name
		}
		if name == from.File {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list binary logs: %w", err)
	}
	return &PurgedError{From: from, Oldest: oldest}
}
