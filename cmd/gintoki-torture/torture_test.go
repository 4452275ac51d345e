package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/flagenv"
)

// The short torture run of make test: the real binaries, three nodes, about
// 45 s of writes and reads with one fault of each kind (the order follows
// the seed), then every check. The seed changes with the time (set
// TORTURE_SEED to repeat one); it is printed, with the command that
// repeats the run.
//
// Until the gintoki binary has --max-staleness (the fix of the lag bug of
// issue 13 comes with it), the run lists the violations of that known bug
// apart (--known-issues lag-after-outage); once it has, every violation
// fails.
func TestShortTorture(t *testing.T) {
	seed := uint64(time.Now().UnixNano() % 1_000_000)
	if s := os.Getenv("TORTURE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("TORTURE_SEED: %v", err)
		}
	}
	dir := t.TempDir()
	bins, err := buildBinaries(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--seed", strconv.FormatUint(seed, 10), "--duration", "45s", "--bound", "3s",
		"--fault-gap-min", "500ms", "--fault-gap-max", "1500ms", "--read-pause", "5ms", "--products", "200",
		"--work-dir", dir}
	fixed := hasMaxStaleness(bins.gintoki)
	if !fixed {
		args = append(args, "--known-issues", "lag-after-outage")
	}
	cfg, err := parseConfig(args, flagenv.Map(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.maxStaleness = fixed
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	res, err := runOnce(t.Context(), cfg, seed, bins, log)
	if err != nil {
		t.Fatalf("seed %d: %v\n%s", seed, err, logs.String())
	}
	var out bytes.Buffer
	report(&out, cfg, res)
	t.Log(out.String())
	if len(res.Violations) > 0 {
		t.Errorf("seed %d: %d violations (repeat with TORTURE_SEED=%d, or make torture SEED=%d)", seed, len(res.Violations), seed, seed)
	}
	kinds := map[faultKind]bool{}
	for _, f := range res.Faults {
		kinds[f.Kind] = true
	}
	for _, k := range allFaults {
		if !kinds[k] {
			t.Errorf("seed %d: no %s fault injected (%d faults in all)", seed, k, len(res.Faults))
		}
	}
	if len(res.Obs) < 1000 || res.Writes[0] < 500 {
		t.Errorf("seed %d: only %d observations and %d writes", seed, len(res.Obs), res.Writes[0])
	}
}
