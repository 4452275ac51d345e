package grpcapi

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// serveRaw serves a Server with limits l and returns its address, for
// clients that speak raw TCP or HTTP/2.
func serveRaw(t *testing.T, l Limits) string {
	t.Helper()
	gs, err := New(fakeReader{}, Config{Limits: l}, slog.New(slog.DiscardHandler), nil).NewGRPCServer()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	return ln.Addr().String()
}

// A client that pings without calls in progress is sent GOAWAY
// too_many_pings and disconnected.
func TestKeepaliveEnforcement(t *testing.T) {
	addr := serveRaw(t, Limits{KeepaliveMinTime: time.Minute, KeepaliveTime: time.Hour, KeepaliveTimeout: time.Minute})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			break // the server may already have closed
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("connection ended without GOAWAY: %v", err)
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			if ga.ErrCode != http2.ErrCodeEnhanceYourCalm || !strings.Contains(string(ga.DebugData()), "too_many_pings") {
				t.Fatalf("GOAWAY %v %q, want ENHANCE_YOUR_CALM too_many_pings", ga.ErrCode, ga.DebugData())
			}
			return
		}
	}
}

// A connection that never completes its handshake is closed after
// ConnectionTimeout, and an idle one after MaxConnectionIdle.
func TestConnectionTimeouts(t *testing.T) {
	addr := serveRaw(t, Limits{ConnectionTimeout: 200 * time.Millisecond, MaxConnectionIdle: 200 * time.Millisecond,
		KeepaliveMinTime: time.Minute, KeepaliveTime: time.Hour, KeepaliveTimeout: time.Minute})

	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	_ = silent.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, silent); err != nil {
		t.Fatalf("a silent connection was not closed by the server: %v", err)
	}
	t.Logf("silent connection closed after %s", time.Since(start).Round(time.Millisecond))

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_ = idle.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(idle, http2.ClientPreface)
	fr := http2.NewFramer(idle, idle)
	_ = fr.WriteSettings()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("idle connection ended without GOAWAY: %v", err)
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			_ = fr.WriteSettingsAck()
		}
		if _, ok := f.(*http2.GoAwayFrame); ok {
			return
		}
	}
}
