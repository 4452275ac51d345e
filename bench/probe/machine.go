package probe

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int
	CPUModel  string
	GoVersion string // of the toolchain on the PATH, else this binary's
	Kernel    string
	MariaDB   string
	Wrk       string
	LoadAvg   string // /proc/loadavg when the run started
	GoRuntime string // GOGC, GOMEMLIMIT and GOMAXPROCS the services inherit
}

// ReadMachine describes this machine, the Go toolchain, wrk and db's server.
func ReadMachine(ctx context.Context, db *sql.DB) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAvg: LoadAvg()}
	var env []string
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	m.GoRuntime = "defaults (none of GOGC, GOMEMLIMIT, GOMAXPROCS set)"
	if len(env) > 0 {
		m.GoRuntime = strings.Join(env, " ")
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&m.MariaDB); err != nil {
		m.MariaDB = "unknown (" + err.Error() + ")"
	}
	// wrk -v prints its version and exits with status 1.
	out, _ := exec.CommandContext(ctx, "wrk", "-v").CombinedOutput()
	if line, _, _ := bytes.Cut(out, []byte("\n")); len(line) > 0 {
		m.Wrk = strings.TrimSpace(string(line))
	}
	return m
}

// LoadAvg returns the 1, 5 and 15 minute load averages.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
