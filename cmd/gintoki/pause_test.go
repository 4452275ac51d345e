package main

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/internal/proctest"
)

// A node paused (SIGSTOP: a long GC, a frozen VM) while a change is
// committed must not answer with the old value unmarked when it resumes:
// the backlog that built up during the pause is as old as the pause, not
// as old as the first probe that notices it. Every answer after the pause
// either carries the stale mark or shows the change.
func TestPausedNodeMarksOldAnswers(t *testing.T) {
	const bound = 2 * time.Second
	bin := buildBinary(t)
	db := mariadbtest.Start(t)
	seedSmall(t, db, 3)
	broker := startBroker(t, 3, append(testTopics, debezium.HeartbeatTopic("gintoki"))...)
	startRelay(t, db, broker, func(c *relayConfig) { c.Heartbeat = 100 * time.Millisecond })

	cmd := exec.Command(bin, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--db-dsn", db.DSN("inventory"),
		"--brokers", broker, "--max-staleness", bound.String(), "--inspect-rate", "0")
	proc := proctest.Start(t, cmd)
	logs := proc.Logs
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT) }) // before Start's kill
	httpAddr := proc.WaitLogged(t, proctest.Serving)[0]
	base := "http://" + httpAddr
	get := func(path string) (stale bool, body string, err error) {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(base + path)
		if err != nil {
			return false, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.Header.Get("X-Gintoki-Stale") == "true", string(b), err
	}
	pollUntil(t, 30*time.Second, func() (bool, string) {
		stale, body, err := get("/v1/products/1/inventory")
		return err == nil && !stale && strings.Contains(body, "warehouses"), body
	})

	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = 4242 WHERE product_id = 1")
	time.Sleep(bound + time.Second) // the pause itself: the change is older than the bound when the node resumes
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var marked, fresh int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		stale, body, err := get("/v1/products/1/inventory")
		switch {
		case err != nil:
			t.Fatalf("GET after the pause: %v\n%s", err, logs.String())
		case stale:
			marked++
		case !strings.Contains(body, "4242"):
			t.Fatalf("unmarked answer after the pause without a change committed %s before it: %s (%d marked before it)", bound+time.Second, body, marked)
		default:
			fresh++
		}
		if fresh >= 20 {
			break
		}
	}
	if fresh < 20 {
		t.Fatalf("the node did not recover within 10s: %d marked answers, %d fresh", marked, fresh)
	}
	t.Logf("after the pause: %d answers marked stale, then fresh ones with the change", marked)
}
