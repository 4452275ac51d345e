package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/internal/proctest"
)

func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "gintoki")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
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
	proc := proctest.Start(t, cmd)
	logs := proc.Logs
	httpAddr := proc.WaitLogged(t, proctest.Serving)[0]
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
	case <-proc.Exited:
		if err := proc.Err(); err != nil {
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
