package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// readSecretFile returns the content of a file holding one secret, without
// one trailing newline (echo and most editors add one). Secrets come from
// files or the environment, never the command line: every local user can
// read a process's command line (ps, /proc/PID/cmdline), and shells keep
// it in their history.
func readSecretFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", name)
	}
	return s, nil
}

// withPasswordFile returns dsn with its password replaced by the content
// of passwordFile, or dsn as it is if passwordFile is empty.
func withPasswordFile(dsn, passwordFile string) (string, error) {
	if passwordFile == "" {
		return dsn, nil
	}
	pw, err := readSecretFile(passwordFile)
	if err != nil {
		return "", fmt.Errorf("--db-password-file: %w", err)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The DSN parser's errors quote parameters, never the password.
		return "", fmt.Errorf("--db-dsn: %w", err)
	}
	cfg.Passwd = pw
	return cfg.FormatDSN(), nil
}
