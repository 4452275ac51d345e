package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/internal/proctest"
)

// A node started with --drain-delay, told to stop by SIGTERM, reports not
// ready at once (HTTP and gRPC health), keeps answering requests — each
// with "Connection: close" — until the delay is over, closes its idle
// keep-alive connections on the way, then exits 0.
func TestDrainDelay(t *testing.T) {
	const delay = 6 * time.Second
	bin := buildBinary(t)
	db := mariadbtest.Start(t)
	seedSmall(t, db, 5)
	broker := startBroker(t, 1, testTopics...)
	cmd := exec.Command(bin, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--db-dsn", db.DSN("inventory"),
		"--brokers", broker, "--heartbeats=false", "--inspect-rate", "0", "--drain-delay", delay.String())
	proc := proctest.Start(t, cmd)
	logs, exited := proc.Logs, proc.Exited
	addrs := proc.WaitLogged(t, proctest.Serving)
	httpAddr, grpcAddr := addrs[0], addrs[1]
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	readyz := func() (int, error) {
		resp, err := client.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	pollUntil(t, 60*time.Second, func() (bool, string) {
		st, err := readyz()
		return st == http.StatusOK, fmt.Sprint(st, err)
	})

	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	health := healthpb.NewHealthClient(cc)
	healthStatus := func() healthpb.HealthCheckResponse_ServingStatus {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatalf("gRPC health: %v", err)
		}
		return resp.GetStatus()
	}
	// gRPC health follows the readiness policy's periodic check.
	pollUntil(t, 30*time.Second, func() (bool, string) {
		st := healthStatus()
		return st == healthpb.HealthCheckResponse_SERVING, st.String()
	})

	// A keep-alive connection, idle when the signal comes.
	idle, idleR := dialHTTP(t, httpAddr)
	if resp := getOn(t, idle, idleR, "/v1/products/1/inventory"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("before the signal: status %d, close %v", resp.StatusCode, resp.Close)
	}

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, delay/2, func() (bool, string) {
		st, err := readyz()
		return st == http.StatusServiceUnavailable, fmt.Sprint(st, err)
	})
	pollUntil(t, delay/2, func() (bool, string) {
		st := healthStatus()
		return st == healthpb.HealthCheckResponse_NOT_SERVING, st.String()
	})
	// New requests are still served, each on a connection the node closes
	// after the answer.
	for i := range 3 {
		conn, r := dialHTTP(t, httpAddr)
		resp := getOn(t, conn, r, fmt.Sprintf("/v1/products/%d/inventory", 1+i))
		if resp.StatusCode != 200 || !resp.Close {
			t.Errorf("during the drain: status %d, Connection: close %v; want 200 and close", resp.StatusCode, resp.Close)
		}
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
			t.Errorf("during the drain: connection still open after a response (read %v)", err)
		}
	}
	select {
	case <-exited:
		t.Fatalf("exited %s after the signal, before the drain delay (%s): %v\n%s", time.Since(signalled), delay, proc.Err(), logs.String())
	default:
	}
	// The connection left idle is closed by the node (halfway through the
	// delay), before the shutdown.
	if err := idle.SetReadDeadline(time.Now().Add(delay)); err != nil {
		t.Fatal(err)
	}
	if _, err := idleR.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle keep-alive connection after the signal: read %v, want EOF (closed by the node)", err)
	}
	select {
	case <-exited:
		t.Errorf("the idle connection was closed only when the node exited (%s after the signal)", time.Since(signalled))
	default:
	}

	select {
	case <-exited:
		if proc.Err() != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", proc.Err(), logs.String())
		}
	case <-time.After(delay + 20*time.Second):
		t.Fatalf("no exit within %s of SIGTERM\n%s", delay+20*time.Second, logs.String())
	}
	if took := time.Since(signalled); took < delay {
		t.Errorf("exited %s after SIGTERM, before the drain delay %s", took, delay)
	}
	if !strings.Contains(logs.String(), `"msg":"draining`) {
		t.Errorf("no drain log line:\n%s", logs.String())
	}
}

// dialHTTP opens a TCP connection to addr, closed when the test ends.
func dialHTTP(tb testing.TB, addr string) (net.Conn, *bufio.Reader) {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// getOn sends GET path on conn and reads the response, body included.
func getOn(tb testing.TB, conn net.Conn, r *bufio.Reader, path string) *http.Response {
	tb.Helper()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: gintoki\r\n\r\n", path); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
