package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/stats"
	"golang.org/x/exp/trace"
)

// STWPause is one GC stop-the-world pause seen in a runtime execution trace.
type STWPause struct {
	Phase string // "sweep termination" or "mark termination"
	// Recorded is the pause as the runtime reports it (its trace range, the
	// same interval its /sched/pauses/total/gc:seconds histogram records):
	// from deciding to stop the world until the thread that stopped it
	// reads the clock after starting it again.
	Recorded time.Duration
	// Stopped is how long no goroutine ran: from the same start until the
	// first goroutine ran again on any thread, or Recorded if none ran
	// before the range ended. The two differ when the OS takes the CPU from
	// the stopping thread after it has handed the processors back.
	Stopped time.Duration
}

const stwRangePrefix = "stop-the-world (GC "

// gcPausesFromTrace reads a runtime execution trace (as served by
// /debug/pprof/trace) and returns its GC stop-the-world pauses, in order.
func gcPausesFromTrace(r io.Reader) ([]STWPause, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	var (
		out   []STWPause
		open  bool // inside a GC stop-the-world range
		begin trace.Time
		phase string
		first trace.Time // first goroutine to run since begin; 0: none yet
	)
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read trace: %w", err)
		}
		switch ev.Kind() {
		case trace.EventRangeBegin:
			if name := ev.Range().Name; strings.HasPrefix(name, stwRangePrefix) {
				open, begin, first = true, ev.Time(), 0
				phase = strings.TrimSuffix(strings.TrimPrefix(name, stwRangePrefix), ")")
			}
		case trace.EventRangeEnd:
			if !open || !strings.HasPrefix(ev.Range().Name, stwRangePrefix) {
				continue
			}
			open = false
			p := STWPause{Phase: phase, Recorded: ev.Time().Sub(begin)}
			p.Stopped = p.Recorded
			if first != 0 {
				p.Stopped = first.Sub(begin)
			}
			out = append(out, p)
		case trace.EventStateTransition:
			if !open || first != 0 {
				continue
			}
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			if _, to := st.Goroutine(); to == trace.GoRunning {
				first = ev.Time()
			}
		}
	}
}

// TraceGCPauses records a runtime execution trace of the service at base
// (its /debug/pprof endpoint on --admin-addr) for d, into a temporary file so that parsing does
// not compete with the load, and returns the trace's GC pauses.
func TraceGCPauses(ctx context.Context, client *http.Client, base string, d time.Duration) ([]STWPause, error) {
	url := fmt.Sprintf("%s/debug/pprof/trace?seconds=%d", base, max(1, int(d.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.CreateTemp("", "gintoki-bench-*.trace")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return gcPausesFromTrace(bufio.NewReaderSize(f, 1<<20))
}

// STWStats summarises pauses: nearest-rank percentiles of both measures.
type STWStats struct {
	N                         int
	RecP50, RecP99, RecMax    time.Duration
	StopP50, StopP99, StopMax time.Duration
	RecOver, StopOver         int // pauses above the limit by each measure
	// RecOverStopMax is the longest world-stopped time among the pauses
	// the runtime records as above the limit.
	RecOverStopMax time.Duration
}

// SummarisePauses summarises ps, counting the pauses above limit (the
// report's target).
func SummarisePauses(ps []STWPause, limit time.Duration) STWStats {
	s := STWStats{N: len(ps)}
	if len(ps) == 0 {
		return s
	}
	rec, stop := make([]time.Duration, len(ps)), make([]time.Duration, len(ps))
	for i, p := range ps {
		rec[i], stop[i] = p.Recorded, p.Stopped
		if p.Recorded > limit {
			s.RecOver++
			s.RecOverStopMax = max(s.RecOverStopMax, p.Stopped)
		}
		if p.Stopped > limit {
			s.StopOver++
		}
	}
	slices.Sort(rec)
	slices.Sort(stop)
	s.RecP50, s.RecP99, s.RecMax = stats.Percentile(rec, 0.5), stats.Percentile(rec, 0.99), rec[len(rec)-1]
	s.StopP50, s.StopP99, s.StopMax = stats.Percentile(stop, 0.5), stats.Percentile(stop, 0.99), stop[len(stop)-1]
	return s
}
