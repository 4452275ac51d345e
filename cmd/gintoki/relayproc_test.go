package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/internal/proctest"
)

// relayProcess is a `gintoki relay` process started by the test, in a
// working directory of its own (its local state, if it had any).
type relayProcess struct {
	name    string
	dir     string
	metrics string // host:port of /metrics, /readyz
	cmd     *exec.Cmd
	logs    *proctest.Buffer
	done    chan struct{} // closed when the process has exited
}

// startRelayProcess starts bin as a relay against db and broker. The
// process is killed when the test ends, and its log shown if the test
// failed.
func startRelayProcess(tb testing.TB, bin, name string, db *mariadbtest.Server, broker string, env []string, extra ...string) *relayProcess {
	tb.Helper()
	r := &relayProcess{name: name, dir: filepath.Join(tb.TempDir(), name), logs: &proctest.Buffer{}, done: make(chan struct{})}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"relay", "--db-addr", db.Addr(), "--db-user", "root", "--brokers", broker,
		"--topic-partitions", "3", "--metrics-addr", "127.0.0.1:0"}, extra...)
	r.cmd = exec.Command(bin, args...)
	r.cmd.Dir = r.dir
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	tb.Cleanup(func() {
		r.kill(tb)
		if tb.Failed() {
			tb.Logf("%s log:\n%s", r.name, r.logs)
		}
	})
	r.metrics = proctest.WaitLogged(tb, r.logs, proctest.RelayMetrics, r.done)[0]
	return r
}

// role returns what /readyz says ("leader", "standby"), or "" if it does
// not answer 200.
func (r *relayProcess) role() string {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + r.metrics + "/readyz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// waitRole waits until /readyz says role, and returns how long that took.
func (r *relayProcess) waitRole(tb testing.TB, role string, within time.Duration) time.Duration {
	tb.Helper()
	start := time.Now()
	pollUntil(tb, within, func() (bool, string) {
		select {
		case <-r.done:
			tb.Fatalf("%s exited:\n%s", r.name, r.logs)
		default:
		}
		got := r.role()
		return got == role, r.name + " /readyz: " + got
	})
	return time.Since(start)
}

// kill sends SIGKILL and waits for the process to exit.
func (r *relayProcess) kill(tb testing.TB) {
	tb.Helper()
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		tb.Errorf("%s did not exit after SIGKILL", r.name)
	}
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func (r *relayProcess) peakRSS(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(r.cmd.Process.Pid) + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) != 2 || f[1] != "kB" {
				tb.Fatalf("VmHWM line %q", line)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc status")
	return 0
}

// devBrokerProcess is a gintoki-devbroker process started by the test.
type devBrokerProcess struct {
	addr string // host:port
	pid  int
}

// startDevBrokerProcess builds and starts gintoki-devbroker, in memory, on
// a free port, as a process of its own: a broker in the test process would
// run under the race detector, several times slower than the relay it
// serves. It is killed when the test ends.
func startDevBrokerProcess(tb testing.TB, partitions int) devBrokerProcess {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "gintoki-devbroker")
	if out, err := exec.Command("go", "build", "-o", bin, "../gintoki-devbroker").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data-dir", "", "--partitions", strconv.Itoa(partitions))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := proctest.Start(tb, cmd)
	return devBrokerProcess{addr: p.WaitLogged(tb, proctest.DevBroker)[0], pid: cmd.Process.Pid}
}

// cpuTime returns the CPU time (user and system) the process has used,
// from /proc/PID/stat, in clock ticks of 1/100 s (Linux's USER_HZ).
func (r *relayProcess) cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	return processCPU(tb, r.cmd.Process.Pid)
}

// processCPU returns the CPU time (user and system) process pid has used.
func processCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (in parentheses, which may hold spaces).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("/proc stat: %q", b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
