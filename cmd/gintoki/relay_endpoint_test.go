package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/relay"
)

type lockOK struct{}

func (lockOK) Healthy() bool { return true }

// TestRunServingEndsOnAServersFailure: a server of the relay that fails
// (its listener gone) stops the relay as a signal would, and its error is
// what the relay returns, so the process exits with it instead of running
// on without its metrics.
func TestRunServingEndsOnAServersFailure(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ep, err := listenRelayEndpoint("127.0.0.1:0", prometheus.NewRegistry(), new(relay.Stats), lockOK{}, log)
	if err != nil {
		t.Fatal(err)
	}
	ep.ln.Close() // Serve fails at once
	runStopped := make(chan struct{})
	run := func(ctx context.Context) error {
		<-ctx.Done() // the relay runs until told to stop
		close(runStopped)
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- runServing(context.Background(), run, ep.serve) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "relay metrics endpoint") {
			t.Fatalf("runServing = %v, want the endpoint's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runServing did not return after its server failed")
	}
	select {
	case <-runStopped:
	default:
		t.Error("runServing returned before the relay stopped")
	}
}

// TestRunServingKeepsServersUntilRunReturns: on a signal the servers keep
// answering while the relay stops, and are down once runServing returns.
func TestRunServingKeepsServersUntilRunReturns(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ep, err := listenRelayEndpoint("127.0.0.1:0", prometheus.NewRegistry(), new(relay.Stats), lockOK{}, log)
	if err != nil {
		t.Fatal(err)
	}
	addr := ep.addr()
	ctx, cancel := context.WithCancel(context.Background())
	errRun := errors.New("relay failed")
	run := func(ctx context.Context) error {
		<-ctx.Done()
		// Stopping: the endpoint still answers.
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Errorf("/healthz while the relay stops: %v", err)
			return errRun
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz while the relay stops: %s", resp.Status)
		}
		return errRun
	}
	done := make(chan error, 1)
	go func() { done <- runServing(ctx, run, ep.serve) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, errRun) {
			t.Fatalf("runServing = %v, want the relay's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runServing did not return")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the endpoint still accepts connections after runServing returned")
	}
}

func TestListenRelayEndpointFailsOnABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := listenRelayEndpoint(ln.Addr().String(), prometheus.NewRegistry(), new(relay.Stats), lockOK{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("listening on a busy address succeeded")
	}
}
