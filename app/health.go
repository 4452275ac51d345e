package app

import (
	"fmt"
	"sync"
	"time"
)

// fillHealth remembers whether database loads are failing, and since when.
type fillHealth struct {
	mu           sync.Mutex // protects the fields below
	failingSince time.Time  // zero while the last load succeeded
	lastErr      error
}

func (h *fillHealth) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingSince.IsZero() {
		h.failingSince = time.Now()
	}
	h.lastErr = err
}

func (h *fillHealth) succeeded() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failingSince, h.lastErr = time.Time{}, nil
}

// problem returns an error if loads have failed, with no success since,
// for at least grace.
func (h *fillHealth) problem(grace time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingSince.IsZero() {
		return nil
	}
	if d := time.Since(h.failingSince); d >= grace {
		return fmt.Errorf("database fills failing for %s: %w", d.Round(time.Millisecond), h.lastErr)
	}
	return nil
}

// FillProblem returns an error while database fills have been failing,
// with no success since, for Config.FillFailAfter or longer: the node
// cannot answer misses. Run's upkeep retries the database every
// Config.UpkeepEvery, so the problem clears once it answers again, with or
// without traffic.
func (s *Service) FillProblem() error { return s.health.problem(s.cfg.FillFailAfter) }
