package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"syscall"
	"time"
)

// faultKind names a kind of fault the injector knows.
type faultKind string

// The faults, each healed before the next one starts.
const (
	faultRelayKill  faultKind = "relay-kill"     // SIGKILL, restart after 0–2 s (resumes from its checkpoint)
	faultRelayPause faultKind = "relay-pause"    // SIGSTOP for a pause, SIGCONT
	faultBroker     faultKind = "broker-restart" // SIGKILL, restart after 0.5–3 s on the same data
	faultNodeKill   faultKind = "node-restart"   // SIGKILL one node, restart after 0.2–2 s
	faultNodePause  faultKind = "node-pause"     // SIGSTOP one node for a pause, SIGCONT
	faultDBStop     faultKind = "db-stop"        // SIGTERM the database, start it after a pause
	faultRedeliver  faultKind = "redeliver"      // re-publish a range of already published records
)

// allFaults is every kind, in the order a rotation starts from.
var allFaults = []faultKind{faultRelayKill, faultRelayPause, faultBroker, faultNodeKill, faultNodePause, faultDBStop, faultRedeliver}

// fault is one injected fault: from Start (injected) to End (healed: the
// process resumed, or restarted and ready).
type fault struct {
	Kind       faultKind
	Target     string
	Start, End time.Duration
	Note       string
}

// injector injects faults at seeded random times until a deadline.
type injector struct {
	s      *stack
	rng    *rand.Rand
	clock  func() time.Duration
	cfg    config
	log    *slog.Logger
	faults []fault // owned by run until it returns
}

// run injects faults, one at a time, until until (on the run's clock):
// after a random gap, the next kind of a seeded permutation of all kinds
// (repeated) that can be healed by until, so a run long enough for seven
// faults has one of each, and a shorter one a subset that rotates with the
// seed. It stops when no kind fits any more, and when ctx ends.
func (in *injector) run(ctx context.Context, until time.Duration) error {
	order := append([]faultKind(nil), allFaults...)
	in.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var pending []faultKind // what is left of the current rotation
	for {
		if len(pending) == 0 {
			pending = append(pending, order...)
		}
		gap := in.between(in.cfg.GapMin, in.cfg.GapMax)
		// The next kind of the rotation, or the first later one that can
		// still be healed in time.
		i := slices.IndexFunc(pending, func(k faultKind) bool { return in.clock()+gap+in.cost(k) <= until })
		if i < 0 {
			return nil
		}
		kind := pending[i]
		pending = slices.Delete(pending, i, i+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(gap):
		}
		f, err := in.inject(ctx, kind)
		if err != nil {
			return fmt.Errorf("inject %s: %w", kind, err)
		}
		in.faults = append(in.faults, f)
		in.log.Info("fault", "kind", f.Kind, "target", f.Target, "start", f.Start.Round(time.Millisecond),
			"healed", f.End.Round(time.Millisecond), "note", f.Note)
	}
}

// cost is the longest a fault of kind can take, restart included.
func (in *injector) cost(kind faultKind) time.Duration {
	switch kind {
	case faultRelayPause, faultNodePause:
		return in.cfg.PauseMax + time.Second
	case faultDBStop:
		return in.cfg.PauseMax + 4*time.Second
	case faultRedeliver:
		return time.Second
	default:
		return 5 * time.Second
	}
}

func (in *injector) pause() time.Duration {
	return in.cfg.PauseMin + time.Duration(in.rng.Int64N(int64(in.cfg.PauseMax-in.cfg.PauseMin)+1))
}

func (in *injector) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(in.rng.Int64N(int64(hi-lo)+1))
}

func (in *injector) inject(ctx context.Context, kind faultKind) (fault, error) {
	f := fault{Kind: kind, Start: in.clock()}
	var err error
	switch kind {
	case faultRelayKill:
		f.Target = "relay"
		err = in.killAndRestart(in.s.relay, in.between(0, 2*time.Second), &f, in.s.startRelay)
	case faultRelayPause:
		f.Target = "relay"
		err = in.stopCont(in.s.relay, &f)
	case faultBroker:
		f.Target = "broker"
		err = in.killAndRestart(in.s.broker, in.between(500*time.Millisecond, 3*time.Second), &f, in.s.startBroker)
	case faultNodeKill:
		n := in.s.nodes[in.rng.IntN(len(in.s.nodes))]
		f.Target = n.proc.name
		err = in.killAndRestart(n.proc, in.between(200*time.Millisecond, 2*time.Second), &f, func() error {
			if err := in.s.startNode(n); err != nil {
				return err
			}
			return in.s.waitReady(n, 60*time.Second)
		})
	case faultNodePause:
		n := in.s.nodes[in.rng.IntN(len(in.s.nodes))]
		f.Target = n.proc.name
		err = in.stopCont(n.proc, &f)
	case faultDBStop:
		f.Target = "db"
		d := in.pause()
		if err = in.s.db.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			break
		}
		time.Sleep(d)
		f.Note = fmt.Sprintf("down %s after a SIGTERM shutdown", d.Round(time.Millisecond))
		err = in.s.startDB(ctx)
	case faultRedeliver:
		f.Target = "broker"
		f.Note, err = redeliver(ctx, in.s.brokerAddr, in.rng, in.cfg.Partitions)
	}
	f.End = in.clock()
	return f, err
}

func (in *injector) killAndRestart(p *proc, down time.Duration, f *fault, restart func() error) error {
	if err := p.stop(syscall.SIGKILL, 10*time.Second); err != nil {
		return err
	}
	time.Sleep(down)
	f.Note = fmt.Sprintf("SIGKILL, down %s", down.Round(time.Millisecond))
	return restart()
}

func (in *injector) stopCont(p *proc, f *fault) error {
	d := in.pause()
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	time.Sleep(d)
	f.Note = fmt.Sprintf("SIGSTOP %s", d.Round(time.Millisecond))
	return p.signal(syscall.SIGCONT)
}
