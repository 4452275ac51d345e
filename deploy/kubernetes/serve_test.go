package kubernetes

import (
	"bytes"
	"net/http"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// startServe runs `gintoki serve` on ports of its choosing with an
// unreachable database and broker, and returns its HTTP base URL once it
// listens (it logs the address it bound).
func startServe(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0",
		"--db-dsn", "nobody@tcp(127.0.0.1:1)/inventory", "--brokers", "127.0.0.1:1")
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(logs.String()); m != nil {
			base := "http://" + m[1]
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				t.Fatalf("gintoki serve said it listens on %s: %v", m[1], err)
			}
			resp.Body.Close()
			return base
		}
		select {
		case <-exited:
			t.Fatalf("gintoki serve exited:\n%s", logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gintoki serve did not say where it listens after 30s:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// servingAddr finds the HTTP address in serve's "serving" log line.
var servingAddr = regexp.MustCompile(`"msg":"serving",[^\n]*?"http":"([^"]+)"`)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
