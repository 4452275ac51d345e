// Package proctest helps tests that run the project's binaries: a Buffer a
// process (or an in-process command, or a *slog.Logger under test) writes
// its log to while the test reads it, and WaitLogged, which finds in that log the addresses the
// binary bound. Tests start the binaries on port 0 and read the addresses
// back, instead of picking a free port and closing it before the binary
// binds it (another process may take it meanwhile).
//
// Tests only. It imports only the standard library.
package proctest

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// The log lines that say where a binary listens, each with the addresses
// as groups.
var (
	// Serving is `gintoki serve`'s "serving" line (JSON): HTTP, gRPC.
	Serving = regexp.MustCompile(`"msg":"serving",[^\n]*?"http":"([^"]+)","grpc":"([^"]+)"`)
	// RelayMetrics is `gintoki relay`'s "relay metrics" line (JSON).
	RelayMetrics = regexp.MustCompile(`"msg":"relay metrics",[^\n]*?"addr":"([^"]+)"`)
	// RelayAdmin is `gintoki relay`'s "relay admin (pprof)" line (JSON).
	RelayAdmin = regexp.MustCompile(`"msg":"relay admin \(pprof\)",[^\n]*?"addr":"([^"]+)"`)
	// DevBroker is gintoki-devbroker's "dev broker listening" line (text).
	DevBroker = regexp.MustCompile(`msg="dev broker listening"[^\n]*? addr=(\S+)`)
)

// Buffer is a bytes.Buffer safe for one writer and concurrent readers.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitLogged polls logs until line matches, and returns its groups. It
// fails the test if exited is closed first (the process ended; nil: never)
// or after 30 s.
func WaitLogged(tb testing.TB, logs fmt.Stringer, line *regexp.Regexp, exited <-chan struct{}) []string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := line.FindStringSubmatch(logs.String()); m != nil {
			return m[1:]
		}
		select {
		case <-exited:
			tb.Fatalf("process exited before logging where it listens:\n%s", logs)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no address logged within 30s (%s):\n%s", line, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Process is a command a test started with Start.
type Process struct {
	Cmd  *exec.Cmd
	Logs *Buffer // its standard output and error
	// Exited is closed once the process has exited and Cmd.Wait returned.
	Exited <-chan struct{}
	err    error // Cmd.Wait's, set before Exited is closed
}

// Start starts cmd with its output in a Buffer. The process is killed, and
// waited for, when the test ends; its log is shown if the test failed.
func Start(tb testing.TB, cmd *exec.Cmd) *Process {
	tb.Helper()
	exited := make(chan struct{})
	p := &Process{Cmd: cmd, Logs: &Buffer{}, Exited: exited}
	cmd.Stdout, cmd.Stderr = p.Logs, p.Logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() { p.err = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if tb.Failed() {
			tb.Logf("%s log:\n%s", cmd.Path, p.Logs)
		}
	})
	return p
}

// Err returns what Cmd.Wait returned; call it once Exited is closed.
func (p *Process) Err() error { return p.err }

// WaitLogged is WaitLogged on the process's log, failing if it exits.
func (p *Process) WaitLogged(tb testing.TB, line *regexp.Regexp) []string {
	tb.Helper()
	return WaitLogged(tb, p.Logs, line, p.Exited)
}
