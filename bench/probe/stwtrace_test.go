package probe

import (
	"bytes"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// tracePauses returns n traced pauses of 0.1 ms, the last slow of which the
// runtime recorded as rec with the world stopped for stopped.
func tracePauses(n, slow int, rec, stopped time.Duration) []STWPause {
	ps := make([]STWPause, n)
	for i := range ps {
		ps[i] = STWPause{Phase: "sweep termination", Recorded: 100 * time.Microsecond, Stopped: 100 * time.Microsecond}
		if i >= n-slow {
			ps[i].Recorded, ps[i].Stopped = rec, stopped
		}
	}
	return ps
}

func TestSummarisePauses(t *testing.T) {
	s := SummarisePauses(tracePauses(200, 3, 2*time.Millisecond, 80*time.Microsecond), time.Millisecond)
	if s.N != 200 || s.RecOver != 3 || s.StopOver != 0 || s.RecOverStopMax != 80*time.Microsecond {
		t.Errorf("%+v: want 200 pauses, 3 recorded above 1 ms whose world stopped ≤ 80µs", s)
	}
	// Nearest rank: the 198th of 200 is the first slow one.
	if s.RecP99 != 2*time.Millisecond || s.RecMax != 2*time.Millisecond || s.StopP99 != 100*time.Microsecond {
		t.Errorf("%+v: want recorded p99 = max = 2ms and stopped p99 100µs", s)
	}
	if z := SummarisePauses(nil, time.Millisecond); z.N != 0 || z.StopP99 != 0 {
		t.Errorf("no pauses: %+v", z)
	}
}
