package main

import (
	"bytes"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"testing"
)

func TestGCPausesFromTrace(t *testing.T) {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	// Goroutines that keep running and allocating, so that the world has
	// something to stop and to start again.
	var (
		stop atomic.Bool
		wg   sync.WaitGroup
		sink atomic.Pointer[[]byte]
	)
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				b := make([]byte, 1024)
				sink.Store(&b)
				runtime.Gosched()
			}
		})
	}
	for range 3 {
		runtime.GC()
	}
	stop.Store(true)
	wg.Wait()
	trace.Stop()

	pauses, err := gcPausesFromTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	phases := map[string]int{}
	for _, p := range pauses {
		phases[p.Phase]++
		if p.Recorded <= 0 || p.Stopped <= 0 || p.Stopped > p.Recorded {
			t.Errorf("pause %+v: want 0 < Stopped ≤ Recorded", p)
		}
	}
	// runtime.GC runs a full cycle: each stops the world twice.
	if phases["sweep termination"] < 3 || phases["mark termination"] < 3 {
		t.Errorf("phases %v, want at least 3 sweep and 3 mark terminations", phases)
	}
}

func TestGCPausesFromTraceRejectsGarbage(t *testing.T) {
	if _, err := gcPausesFromTrace(bytes.NewReader([]byte("not a trace"))); err == nil {
		t.Error("no error for a non-trace")
	}
	f, err := os.CreateTemp(t.TempDir(), "empty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := gcPausesFromTrace(f); err == nil {
		t.Error("no error for an empty file")
	}
}
