package binlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

const queryBinlogSettings = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata')"

// SettingError says that a server setting rules out change capture, and how
// to fix it.
type SettingError struct {
	Setting string // server variable, e.g. "binlog_format"
	Value   string // its current global value ("" if the server lacks it)
	Want    string // the value the relay needs
	Fix     string // what to do about it
}

// Error implements error: the setting, its value, the value wanted and the fix.
func (e *SettingError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("server has no %s setting, want %s; fix: %s", e.Setting, e.Want, e.Fix)
	}
	return fmt.Sprintf("%s is %s, want %s; fix: %s", e.Setting, e.Value, e.Want, e.Fix)
}

// Preflight checks that the server writes a binary log the relay can read:
// log_bin ON, binlog_format ROW, binlog_row_image FULL and
// binlog_row_metadata FULL. It returns every setting that is wrong, each as
// a *SettingError, joined.
func Preflight(ctx context.Context, db *sql.DB) error {
	// The settings the relay depends on, each checked on its GLOBAL value:
	// what new sessions (and so the application's writes) get.
	checks := []struct {
		setting, want, fix string
	}{
		{"log_bin", "ON", "start the server with --log-bin=mysql-bin (log_bin cannot be changed at run time)"},
		{"binlog_format", "ROW", "SET GLOBAL binlog_format='ROW' and put binlog_format=ROW under [mysqld] in the server's configuration; sessions opened before keep their old format until they reconnect"},
		{"binlog_row_image", "FULL", "SET GLOBAL binlog_row_image='FULL' and put binlog_row_image=FULL under [mysqld] in the server's configuration"},
		{"binlog_row_metadata", "FULL", "SET GLOBAL binlog_row_metadata='FULL' and put binlog_row_metadata=FULL under [mysqld] in the server's configuration (needs MySQL 8.0.1+ or MariaDB 10.5+); column names are read from the binlog, never from the current schema"},
	}
	rows, err := db.QueryContext(ctx, queryBinlogSettings)
	if err != nil {
		return fmt.Errorf("read binlog settings: %w", err)
	}
	defer rows.Close()
	values := make(map[string]string, len(checks))
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return fmt.Errorf("read binlog settings: %w", err)
		}
		values[strings.ToLower(name)] = value
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read binlog settings: %w", err)
	}
	var errs []error
	for _, c := range checks {
		v := values[c.setting]
		if !strings.EqualFold(v, c.want) {
			errs = append(errs, &SettingError{Setting: c.setting, Value: v, Want: c.want, Fix: c.fix})
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("binlog preflight: %w", errors.Join(errs...))
	}
	return nil
}
