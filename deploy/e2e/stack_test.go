package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
)

// stack is the local stack started by scripts/run.sh.
type stack struct {
	http, grpc, relay, db string // addresses
	products              int    // demo products in the database
	log                   *bytes.Buffer
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// startStack runs scripts/run.sh with every port free and its data in a
// temporary directory, and waits until the service is ready. Cleanup stops
// it (SIGTERM to run.sh, which stops each part it started and waits).
func startStack(t *testing.T, root, bins string) *stack {
	t.Helper()
	s := &stack{http: freeAddr(t), grpc: freeAddr(t), relay: freeAddr(t), db: freeAddr(t), products: 2000, log: new(bytes.Buffer)}
	cmd := exec.Command(filepath.Join(root, "scripts", "run.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"GINTOKI_BIN="+filepath.Join(bins, "gintoki"),
		"GINTOKI_DEVBROKER_BIN="+filepath.Join(bins, "gintoki-devbroker"),
		"GINTOKI_LOCAL_DIR="+t.TempDir(),
		"GINTOKI_DB_PORT="+port(s.db),
		"GINTOKI_BROKER_PORT="+port(freeAddr(t)),
		"GINTOKI_RELAY_METRICS_ADDR="+s.relay,
		"GINTOKI_HTTP_ADDR="+s.http,
		"GINTOKI_GRPC_ADDR="+s.grpc,
		fmt.Sprintf("GINTOKI_DEMO_PRODUCTS=%d", s.products),
		"GINTOKI_STOP_TIMEOUT=15",
		// A small cache and a low GOGC make the garbage collector run
		// under this light load, so that the GC panels have pauses to show.
		"GINTOKI_CACHE_BYTES=4194304", "GINTOKI_MEMORY_HEADROOM=16777216", "GOGC=20",
	)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("scripts/run.sh did not stop within 90s; killed it\n%s", s.log)
		}
		if t.Failed() {
			t.Logf("scripts/run.sh output:\n%s", s.log)
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get("http://" + s.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("scripts/run.sh exited before the service was ready: %v\n%s", err, s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service was not ready within 3 minutes\n%s", s.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// load reads through both transports (hits, misses, unknown products,
// batches) and UPDATEs stock rows until ctx ends, so that every rate on
// the dashboard has something to show. It returns when ctx ends, with the
// first error other than the end.
func (s *stack) load(ctx context.Context) error {
	db, err := sql.Open("mysql", "root@tcp("+s.db+")/inventory")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := grpc.NewClient(s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := inventoryv1.NewInventoryServiceClient(conn)
	hc := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		id := 1 + rand.Int64N(int64(s.products))
		var err error
		switch i % 10 {
		case 0, 1, 2, 3:
			err = httpGet(ctx, hc, fmt.Sprintf("http://%s/v1/products/%d/inventory", s.http, id))
		case 4:
			err = httpGet(ctx, hc, fmt.Sprintf("http://%s/v1/products/%d/inventory", s.http, 1_000_000+id)) // unknown: negative entries
		case 5:
			var req *http.Request
			req, err = http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.http+"/v1/inventory:batchGet",
				strings.NewReader(fmt.Sprintf(`{"product_ids":[%d,%d,%d]}`, id, id%int64(s.products)+1, id+7)))
			if err == nil {
				err = do(hc, req)
			}
		case 6, 7:
			_, err = client.GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: id})
		case 8:
			_, err = client.BatchGetInventory(ctx, &inventoryv1.BatchGetInventoryRequest{ProductIds: []int64{id, id%int64(s.products) + 1}})
		case 9:
			if i%40 == 9 { // an UPDATE every ~200 ms: changes for the relay and the consumer
				_, err = db.ExecContext(ctx, "UPDATE warehouse_stock_item SET qty_salable = qty_salable + 1 WHERE product_id = ? LIMIT 1", id)
			}
		}
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("load: %w", err)
		}
	}
}

func httpGet(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return do(hc, req)
}

func do(hc *http.Client, req *http.Request) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL, resp.Status)
	}
	return nil
}
