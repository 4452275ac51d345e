package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/internal/proctest"
)

// bigTxRows is the size of TestRelayLargeTransaction's transaction:
// $GINTOKI_BIG_TX_ROWS, or 300,000 (2,000,000 is the target; it takes a few
// minutes on a loaded 2-core machine, so make test runs the smaller one
// with the same memory bound).
func bigTxRows(tb testing.TB) (rows int, full bool) {
	tb.Helper()
	v := os.Getenv("GINTOKI_BIG_TX_ROWS")
	if v == "" {
		return 300_000, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("GINTOKI_BIG_TX_ROWS=%q: want a positive number", v)
	}
	return n, true
}

// bigTxBinary returns the gintoki binary TestRelayLargeTransaction runs:
// $GINTOKI_BIG_TX_BIN if set (to compare two builds on the same machine,
// alternately), or one built from this tree.
func bigTxBinary(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv("GINTOKI_BIG_TX_BIN"); bin != "" {
		return bin
	}
	return buildBinary(tb)
}

// bigTxPID reads a process id from a pid file.
func bigTxPID(tb testing.TB, file string) int {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		tb.Fatalf("pid file %s: %v", file, err)
	}
	return pid
}

// bigTxProfile fetches a CPU profile of the relay process (through its
// --admin-addr) for d into file, in the background; wait returns once it
// is written.
func bigTxProfile(tb testing.TB, admin, file string, d time.Duration) (wait func()) {
	tb.Helper()
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, max(1, int(d.Seconds()))))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("profile: %s: %s", resp.Status, b)
		}
		if err == nil {
			err = os.WriteFile(file, b, 0o644)
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			tb.Errorf("relay CPU profile: %v", err)
		} else {
			tb.Logf("relay CPU profile in %s", file)
		}
	}
}

// TestRelayLargeTransaction runs one UPDATE of many rows through a relay
// process limited by GOMEMLIMIT, and checks its peak resident memory
// (VmHWM) against 256 MiB: the relay streams a transaction in parts with a
// bounded window in flight, so its memory does not grow with the
// transaction. It reports the rows published per second, from the commit
// to the broker's acknowledgement of the last row, and the CPU time the
// relay and the dev broker spent; with GINTOKI_BIG_TX_ROWS set it also
// requires 100,000 rows/s. GINTOKI_BIG_TX_BIN runs another build of the
// relay; GINTOKI_BIG_TX_PROFILE=FILE writes a CPU profile of the relay,
// taken from the commit for GINTOKI_BIG_TX_PROFILE_SECONDS (default 10).
func TestRelayLargeTransaction(t *testing.T) {
	const rssBound = 256 << 20
	rows, full := bigTxRows(t)
	db := mariadbtest.Start(t)
	db.Exec(t, fmt.Sprintf("INSERT INTO warehouse_stock_item SELECT seq, 1 + seq %% 4, 0 FROM seq_1_to_%d", rows))
	broker := startDevBrokerProcess(t, 3)
	bin := bigTxBinary(t)
	profile := os.Getenv("GINTOKI_BIG_TX_PROFILE")
	extra := []string{"--heartbeat-interval", "0"}
	admin := ""
	if profile != "" {
		extra = append(extra, "--admin-addr", "127.0.0.1:0")
	}
	r := startRelayProcess(t, bin, "relay", db, broker.addr, []string{"GOMEMLIMIT=192MiB"}, extra...)
	if profile != "" {
		admin = proctest.WaitLogged(t, r.logs, proctest.RelayAdmin, r.done)[0]
	}
	r.waitRole(t, "leader", 60*time.Second)
	base := relayMetric(t, r.metrics, "gintoki_relay_messages_acked_total")

	cpu0, brokerCPU0 := r.cpuTime(t), processCPU(t, broker.pid)
	var load0 string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load0 = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	start := time.Now()
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = qty_salable + 1")
	committed := time.Now()
	dbPID := bigTxPID(t, filepath.Join(db.Dir, "pid"))
	dbCPU0 := processCPU(t, dbPID) // from the commit on: sending the binlog
	if profile != "" {
		secs := 10
		if v := os.Getenv("GINTOKI_BIG_TX_PROFILE_SECONDS"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				secs = n
			}
		}
		defer bigTxProfile(t, admin, profile, time.Duration(secs)*time.Second)()
	}
	// Polled every 50 ms, not pollUntil's 5 ms: each scrape costs the
	// relay CPU (its Go collector), which would count against it.
	var acked time.Time
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		n := relayMetric(t, r.metrics, "gintoki_relay_messages_acked_total") - base
		if n >= float64(rows) {
			acked = time.Now()
			break
		}
		select {
		case <-r.done:
			t.Fatalf("relay exited:\n%s", r.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v of %d rows acknowledged after 10 minutes", n, rows)
		}
	}
	peak := r.peakRSS(t)
	cpu := r.cpuTime(t) - cpu0
	brokerCPU := processCPU(t, broker.pid) - brokerCPU0
	dbCPU := processCPU(t, dbPID) - dbCPU0
	var load1 string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load1 = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	rate := float64(rows) / acked.Sub(committed).Seconds()
	// The machine is shared: rows per CPU second of the relay says what it
	// does with a core of its own, whatever the load.
	t.Logf("%d-row UPDATE: statement %v; commit → last row acknowledged %v: %.0f rows/s; relay CPU %v: %.0f rows per CPU second; relay peak RSS (VmHWM) %.1f MiB with GOMEMLIMIT=192MiB",
		rows, committed.Sub(start).Round(time.Millisecond), acked.Sub(committed).Round(time.Millisecond), rate,
		cpu, float64(rows)/cpu.Seconds(), float64(peak)/(1<<20))
	t.Logf("dev broker CPU %v (%.0f rows per CPU second); MariaDB CPU from the commit on %v; load average %s before, %s after",
		brokerCPU, float64(rows)/brokerCPU.Seconds(), dbCPU, load0, load1)
	if peak > rssBound {
		t.Errorf("relay peak RSS %.1f MiB, bound %d MiB", float64(peak)/(1<<20), rssBound>>20)
	}
	if n := relayMetric(t, r.metrics, "gintoki_relay_transactions_total"); n != 1 {
		t.Errorf("gintoki_relay_transactions_total = %v, want 1", n)
	}
	if full && rate < 100_000 {
		t.Errorf("%.0f rows/s, want at least 100,000", rate)
	}
}
