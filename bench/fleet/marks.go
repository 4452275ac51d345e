package fleet

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
)

// fleetEvent is one line of the marks file scripts/fleet.sh writes while
// the load runs: "<unix milliseconds> <name> [node]".
type fleetEvent struct {
	At   time.Time
	Name string
	Node string
}

// The events that cut the load into windows. Others (down, stopped,
// started, ready, up, write…) are shown in each restart's timeline.
const (
	markSteady       = "steady"        // the load has settled: steady state from here
	markRestartBegin = "restart-begin" // a node's restart window opens (before its SIGTERM)
	markRestartEnd   = "restart-end"   // and closes (it is back in the proxy, plus a settling time)
)

// span is a window of the load.
type span struct {
	Label    string
	From, To time.Time
	Events   []fleetEvent // the events inside, for a restart window
}

func (s span) contains(t time.Time) bool { return !t.Before(s.From) && t.Before(s.To) }

// parseMarks reads a marks file.
func parseMarks(r io.Reader) ([]fleetEvent, error) {
	var out []fleetEvent
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("marks line %d: %q: want <unix ms> <event> [node]", n, sc.Text())
		}
		msec, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("marks line %d: time %q: %w", n, f[0], err)
		}
		e := fleetEvent{At: time.UnixMilli(msec), Name: f[1]}
		if len(f) == 3 {
			e.Node = f[2]
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read marks: %w", err)
	}
	return out, nil
}

// fleetWindows cuts the load [start, end) by the events: the steady state
// runs from the steady mark to the first restart, and from the last
// restart's end to the end of the load; each restart window from its
// restart-begin to its restart-end (or the end of the load, if the run was
// cut short).
func fleetWindows(events []fleetEvent, start, end time.Time) (steady, restarts []span, err error) {
	steadyFrom := start
	var open *span
	for _, e := range events {
		switch e.Name {
		case markSteady:
			steadyFrom = e.At
		case markRestartBegin:
			if open != nil {
				return nil, nil, fmt.Errorf("marks: restart of %s begins inside the restart of %s", e.Node, open.Label)
			}
			open = &span{Label: e.Node, From: e.At}
		case markRestartEnd:
			if open == nil || open.Label != e.Node {
				return nil, nil, fmt.Errorf("marks: restart of %s ends without having begun", e.Node)
			}
			open.To = e.At
			restarts = append(restarts, *open)
			open = nil
		default:
			if open != nil {
				open.Events = append(open.Events, e)
			}
		}
	}
	if open != nil {
		open.To = end
		restarts = append(restarts, *open)
	}
	if len(restarts) == 0 {
		return []span{{Label: "steady", From: steadyFrom, To: end}}, nil, nil
	}
	if steadyFrom.Before(restarts[0].From) {
		steady = append(steady, span{Label: "steady, before", From: steadyFrom, To: restarts[0].From})
	}
	if last := restarts[len(restarts)-1].To; last.Before(end) {
		steady = append(steady, span{Label: "steady, after", From: last, To: end})
	}
	return steady, restarts, nil
}

// inSpans returns the samples scheduled inside any of spans.
func inSpans(samples []loadgen.Sample, start time.Time, spans []span) []loadgen.Sample {
	var out []loadgen.Sample
	for _, s := range samples {
		at := start.Add(s.At)
		for _, sp := range spans {
			if sp.contains(at) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// spansLength is the total length of spans.
func spansLength(spans []span) time.Duration {
	var d time.Duration
	for _, s := range spans {
		d += s.To.Sub(s.From)
	}
	return d
}

// dbRates returns the queries and SELECTs per second the database ran
// inside spans: the counters' growth between the first and the last
// reading inside each span, over the time between them. ok is false when
// no span holds two readings.
func dbRates(readings []probe.DBStatus, spans []span) (questions, selects float64, ok bool) {
	var dq, ds float64
	var dt time.Duration
	for _, sp := range spans {
		var first, last *probe.DBStatus
		for i := range readings {
			r := &readings[i]
			if !sp.contains(r.At) {
				continue
			}
			if first == nil {
				first = r
			}
			last = r
		}
		if first == nil || last == first {
			continue
		}
		dq += last.Questions - first.Questions
		ds += last.Selects - first.Selects
		dt += last.At.Sub(first.At)
	}
	if dt <= 0 {
		return 0, 0, false
	}
	return dq / dt.Seconds(), ds / dt.Seconds(), true
}

// cpuBusy returns the share of the machine's CPU time that was busy inside
// spans, from the first to the last reading inside each; -1 when no span
// holds two readings.
func cpuBusy(readings []probe.CPUTimes, spans []span) float64 {
	var busy, total float64
	for _, sp := range spans {
		var first, last *probe.CPUTimes
		for i := range readings {
			if r := &readings[i]; sp.contains(r.At) {
				if first == nil {
					first = r
				}
				last = r
			}
		}
		if first != nil && last != first {
			busy += last.Busy - first.Busy
			total += last.Total - first.Total
		}
	}
	if total <= 0 {
		return -1
	}
	return busy / total
}
