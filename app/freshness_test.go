package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeStream is a Stream whose horizon and state the test sets.
type fakeStream struct {
	mu sync.Mutex
	h  StreamHorizon
	st StreamState
}

func (s *fakeStream) Horizon() StreamHorizon {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h
}

func (s *fakeStream) State() StreamState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *fakeStream) set(h StreamHorizon, st StreamState) {
	s.mu.Lock()
	s.h, s.st = h, st
	s.mu.Unlock()
}

type fakeParts struct {
	started bool
	fillErr error
	pingErr error
	ahead   time.Duration
}

func (p *fakeParts) FillProblem() error { return p.fillErr }

func (p *fakeParts) Started() bool              { return p.started }
func (p *fakeParts) Ping(context.Context) error { return p.pingErr }
func (p *fakeParts) SourceAhead() time.Duration { return p.ahead }
func discardLogger() *slog.Logger               { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func mustFreshness(tb testing.TB, cfg FreshnessConfig, parts FreshnessParts) *Freshness {
	tb.Helper()
	f, err := NewFreshness(cfg, parts, discardLogger())
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// Every fault the bound must cover, as the node sees it: the answer is
// stale exactly when the time since everything was known consumed, in the
// source's terms, exceeds the bound.
func TestFreshnessStaleness(t *testing.T) {
	const bound = 5 * time.Second
	attached := StreamState{Attached: true}
	cases := []struct {
		name       string
		heartbeats bool
		consumed   float64 // seconds ago (-1: zero)
		source     float64 // seconds ago (-1: zero)
		ahead      time.Duration
		st         StreamState
		wantStale  bool
		wantReady  string // "" or a substring of the readiness error
	}{
		{name: "keeping up, source busy", heartbeats: true, consumed: 0.2, source: 0.25, st: attached},
		{name: "keeping up, database idle: heartbeats 2 s old", heartbeats: true, consumed: 0.2, source: 2.2, st: attached},
		{name: "starting: not caught up", heartbeats: true, consumed: -1, source: -1, st: StreamState{Attached: true, LagRecords: 9},
			wantStale: true, wantReady: "catching up (9 records behind)"},
		{name: "not attached", heartbeats: true, consumed: -1, source: -1, st: StreamState{ProbeError: errors.New("dial refused")},
			wantStale: true, wantReady: "not attached: dial refused"},
		{name: "relay stopped 6 s ago: silent source, still ready", heartbeats: true, consumed: 0.1, source: 6, st: attached, wantStale: true},
		{name: "relay stopped 4 s ago: within the bound", heartbeats: true, consumed: 0.1, source: 4, st: attached},
		{name: "source clock 1.5 s ahead widens the age", heartbeats: true, consumed: 0.1, source: 4, ahead: 1500 * time.Millisecond, st: attached, wantStale: true},
		{name: "broker down for 6 s", heartbeats: true, consumed: 6, source: 6.1, st: StreamState{Attached: true, ProbeError: errors.New("connection refused")},
			wantStale: true, wantReady: "the broker does not answer: connection refused"},
		{name: "node paused 8 s: horizon from before the pause", heartbeats: true, consumed: 8.2, source: 8.3, st: attached,
			wantStale: true, wantReady: "consumed only up to 8.2s ago"},
		{name: "node behind its topics", heartbeats: true, consumed: 5.5, source: 5.6, st: StreamState{Attached: true, LagRecords: 1000},
			wantStale: true, wantReady: "1000 records behind"},
		{name: "no heartbeats: only the node's lag counts", consumed: 0.2, source: 60, st: attached},
		{name: "no heartbeats: node behind", consumed: 5.1, source: 5.2, st: attached, wantStale: true, wantReady: "consumed only up to"},
		{name: "caught up, but no source time yet", heartbeats: true, consumed: 0.1, source: -1, st: attached, wantStale: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: t0}
			ago := func(s float64) time.Time {
				if s < 0 {
					return time.Time{}
				}
				return t0.Add(-time.Duration(s * float64(time.Second)))
			}
			stream := &fakeStream{}
			stream.set(StreamHorizon{Consumed: ago(tc.consumed), Source: ago(tc.source)}, tc.st)
			parts := &fakeParts{started: true, ahead: tc.ahead}
			f := mustFreshness(t, FreshnessConfig{MaxStaleness: bound, Heartbeats: tc.heartbeats, Now: clock.Now},
				FreshnessParts{Stream: stream, Clock: parts, Service: parts, Database: parts})
			if got := f.Stale(); got != tc.wantStale {
				age, ok := f.Age()
				t.Errorf("Stale() = %v, want %v (age %v, known %v)", got, tc.wantStale, age, ok)
			}
			err := f.Ready(context.Background())
			switch {
			case tc.wantReady == "" && err != nil:
				t.Errorf("Ready: %v, want ready", err)
			case tc.wantReady != "" && (err == nil || !strings.Contains(err.Error(), tc.wantReady)):
				t.Errorf("Ready: %v, want an error containing %q", err, tc.wantReady)
			}
			if (f.staleReason() != nil) != tc.wantStale {
				t.Errorf("staleReason() = %v with Stale() %v", f.staleReason(), tc.wantStale)
			}
		})
	}
}

// Staleness is judged on every call from the horizon and the clock: time
// passing alone (a pause, no evaluation in between) makes answers stale the
// moment the bound is passed, and a new horizon makes them fresh again.
func TestFreshnessJudgedOnEveryRead(t *testing.T) {
	clock := &fakeClock{now: t0}
	stream := &fakeStream{}
	stream.set(StreamHorizon{Consumed: t0, Source: t0.Add(-time.Second)}, StreamState{Attached: true})
	parts := &fakeParts{started: true}
	f := mustFreshness(t, FreshnessConfig{MaxStaleness: 5 * time.Second, Heartbeats: true, Now: clock.Now},
		FreshnessParts{Stream: stream, Service: parts, Database: parts})
	clock.advance(4 * time.Second) // source age 5 s: at the bound
	if f.Stale() {
		t.Fatal("stale at exactly the bound")
	}
	clock.advance(time.Millisecond)
	if !f.Stale() {
		t.Fatal("not stale 1 ms past the bound")
	}
	if h := f.Horizon(); !h.Equal(t0.Add(-time.Second)) {
		t.Fatalf("Horizon() = %v, want %v", h, t0.Add(-time.Second))
	}
	stream.set(StreamHorizon{Consumed: clock.Now(), Source: clock.Now().Add(-10 * time.Millisecond)}, StreamState{Attached: true})
	if f.Stale() {
		t.Fatal("stale with a fresh horizon")
	}
}

// Readiness also needs the directory and the database; without a change
// stream (database-only mode) answers are never stale.
func TestFreshnessReadinessAndNoStream(t *testing.T) {
	clock := &fakeClock{now: t0}
	parts := &fakeParts{}
	f := mustFreshness(t, FreshnessConfig{MaxStaleness: time.Second, Heartbeats: true, Now: clock.Now},
		FreshnessParts{Service: parts, Database: parts})
	if err := f.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Ready before start: %v", err)
	}
	parts.started = true
	parts.pingErr = errors.New("gone")
	if err := f.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "database: gone") {
		t.Errorf("Ready with the database down: %v", err)
	}
	parts.pingErr, parts.fillErr = nil, errors.New("database fills failing for 1s")
	if err := f.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "fills failing") {
		t.Errorf("Ready with fills failing: %v", err)
	}
	parts.fillErr = nil
	if err := f.Ready(context.Background()); err != nil {
		t.Errorf("Ready: %v", err)
	}
	if f.Stale() {
		t.Error("stale without a change stream")
	}
	if _, err := NewFreshness(FreshnessConfig{}, FreshnessParts{Service: parts, Database: parts}, discardLogger()); err == nil {
		t.Error("a zero bound accepted")
	}
}

// The measured clock skew only ever counts a source clock that is ahead.
func TestClockAhead(t *testing.T) {
	var c clockAhead
	c.observe(t0.Add(-3*time.Millisecond), t0) // normal delivery: behind
	if c.get() != 0 {
		t.Fatalf("ahead %v after a stamp before its consumption", c.get())
	}
	c.observe(t0.Add(time.Second+200*time.Millisecond), t0.Add(time.Second))
	if c.get() != 200*time.Millisecond {
		t.Fatalf("ahead %v, want 200ms", c.get())
	}
	c.observe(t0.Add(2*time.Second), t0.Add(2*time.Second+time.Millisecond))
	if c.get() != 200*time.Millisecond {
		t.Fatalf("ahead %v, want 200ms kept within the window", c.get())
	}
	// Two windows later the observation has aged out.
	c.observe(t0.Add(aheadWindow+time.Second), t0.Add(aheadWindow+time.Second))
	c.observe(t0.Add(2*aheadWindow+2*time.Second), t0.Add(2*aheadWindow+2*time.Second))
	if c.get() != 0 {
		t.Fatalf("ahead %v two windows later", c.get())
	}
}
