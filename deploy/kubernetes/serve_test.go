package kubernetes

import (
	"net/http"
	"os/exec"
	"testing"

	"github.com/gintoki/gintoki/internal/proctest"
)

// startServe runs `gintoki serve` on ports of its choosing with an
// unreachable database and broker, and returns its HTTP base URL once it
// listens (it logs the address it bound).
func startServe(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0",
		"--db-dsn", "nobody@tcp(127.0.0.1:1)/inventory", "--brokers", "127.0.0.1:1")
	addr := proctest.Start(t, cmd).WaitLogged(t, proctest.Serving)[0]
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("gintoki serve said it listens on %s: %v", addr, err)
	}
	resp.Body.Close()
	return "http://" + addr
}
