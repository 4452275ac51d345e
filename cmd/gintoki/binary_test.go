package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/mariadbtest"
)

func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "gintoki")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Processes the tests start bind port 0 and log where they listen; these
// find the addresses in their logs (a port picked by the test and closed
// before the process binds it could be taken meanwhile).
var (
	servingAddrs = regexp.MustCompile(`"msg":"serving",[^\n]*?"http":"([^"]+)","grpc":"([^"]+)"`)
	relayMetrics = regexp.MustCompile(`"msg":"relay metrics",[^\n]*?"addr":"([^"]+)"`)
	relayAdmin   = regexp.MustCompile(`"msg":"relay admin \(pprof\)",[^\n]*?"addr":"([^"]+)"`)
	brokerAddr   = regexp.MustCompile(`msg="dev broker listening"[^\n]*? addr=(\S+)`)
)

// loggedAddrs polls logs until re matches, and returns its groups. It
// fails the test when exited is closed first (the process ended) or after
// 30 s.
func loggedAddrs(tb testing.TB, logs fmt.Stringer, re *regexp.Regexp, exited <-chan struct{}) []string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m[1:]
		}
		select {
		case <-exited:
			tb.Fatalf("process exited before logging where it listens:\n%s", logs)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no address logged within 30s (%s):\n%s", re, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The binary documents every flag with its environment variable, takes
// values from the environment, and exits 0 after SIGTERM once in-flight
// work is drained.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v", err)
	}
	for _, f := range []string{"--http-addr", "$GINTOKI_HTTP_ADDR", "--cache-bytes", "--max-staleness", "$GINTOKI_DB_DSN", "--shutdown-timeout"} {
		if !strings.Contains(string(out), f) {
			t.Errorf("serve --help lacks %s", f)
		}
	}
	if out, err := exec.Command(bin, "relay", "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "$GINTOKI_CHECKPOINT_TOPIC") {
		t.Errorf("relay --help: %v\n%s", err, out)
	}
	if err := exec.Command(bin, "serve", "--max-batch", "0").Run(); err == nil {
		t.Error("invalid flag value accepted")
	}
	if err := exec.Command(bin, "bogus").Run(); err == nil {
		t.Error("unknown command accepted")
	}

	db := mariadbtest.Start(t)
	seedSmall(t, db, 5)
	cmd := exec.Command(bin, "serve", "--no-cache", "--grpc-addr", "127.0.0.1:0")
	cmd.Env = append(cmd.Environ(), "GINTOKI_HTTP_ADDR=127.0.0.1:0", "GINTOKI_DB_DSN="+db.DSN("inventory"))
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, exited := make(chan error, 1), make(chan struct{})
	go func() { done <- cmd.Wait(); close(exited) }()
	httpAddr := loggedAddrs(t, logs, servingAddrs, exited)[0]
	pollUntil(t, 20*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + httpAddr + "/v1/products/1/inventory")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, fmt.Sprint(resp.StatusCode)
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no exit within 20s of SIGTERM\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no shutdown log line:\n%s", logs.String())
	}
}
