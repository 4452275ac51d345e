package main

import (
	"errors"
	"flag"
	"io"
	"time"

	"github.com/gintoki/gintoki/internal/flagenv"
)

// config is everything a run can be told.
type config struct {
	Seed        uint64
	Runs        int           // seeds Seed, Seed+1, … one after the other
	Duration    time.Duration // writes and reads, faults inside
	Bound       time.Duration // the staleness bound checked
	Nodes       int
	Products    int
	Hot         int
	Warehouses  int
	Partitions  int
	WriteRate   int
	Readers     int // per node
	ReadPause   time.Duration
	ReadTimeout time.Duration
	GapMin      time.Duration // between faults
	GapMax      time.Duration
	PauseMin    time.Duration // SIGSTOP and database downtime
	PauseMax    time.Duration
	Converge    time.Duration // how long nodes may take to converge after quiescence
	BinDir      string        // gintoki and gintoki-devbroker; empty: built
	WorkDir     string        // empty: a temporary directory
	Keep        bool          // keep the work directory (logs, data)
	Verbose     bool
	KnownIssues string // names of known issues whose violations are listed apart
	FreshTopics bool   // start the nodes before the change topics exist

	known []knownIssue // parsed KnownIssues

	// maxStaleness is set when the gintoki binary has --max-staleness; the
	// nodes then get it, else --max-lag and --heartbeat-timeout.
	maxStaleness bool
}

func (c *config) flags(fs *flag.FlagSet) {
	fs.Uint64Var(&c.Seed, "seed", uint64(time.Now().UnixNano()%1_000_000), "seed of every random choice (writes, reads, fault times and kinds); printed, so a run can be repeated")
	fs.IntVar(&c.Runs, "runs", 1, "number of runs, with seeds seed, seed+1, …, each on a fresh stack")
	fs.DurationVar(&c.Duration, "duration", 60*time.Second, "how long writes, reads and faults go on in one run (start-up and checks come on top)")
	fs.DurationVar(&c.Bound, "bound", 5*time.Second, "staleness bound given to the nodes and checked: an answer not marked stale must reflect every change committed longer ago")
	fs.IntVar(&c.Nodes, "nodes", 3, "gintoki serve processes")
	fs.IntVar(&c.Products, "products", 300, "product ids written (1..N); N+1..N+5 are read but never written")
	fs.IntVar(&c.Hot, "hot", 5, "hot products (1..hot): written and read most")
	fs.IntVar(&c.Warehouses, "warehouses", 6, "warehouses")
	fs.IntVar(&c.Partitions, "partitions", 3, "partitions of the change topics")
	fs.IntVar(&c.WriteRate, "write-rate", 100, "write transactions per second")
	fs.IntVar(&c.Readers, "readers", 2, "concurrent readers per node")
	fs.DurationVar(&c.ReadPause, "read-pause", 3*time.Millisecond, "pause of each reader between two reads")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", 2*time.Second, "time limit of one read")
	fs.DurationVar(&c.GapMin, "fault-gap-min", time.Second, "shortest time between two faults")
	fs.DurationVar(&c.GapMax, "fault-gap-max", 4*time.Second, "longest time between two faults")
	fs.DurationVar(&c.PauseMin, "pause-min", 0, "shortest SIGSTOP or database downtime (0: the bound plus 10%)")
	fs.DurationVar(&c.PauseMax, "pause-max", 0, "longest SIGSTOP or database downtime (0: the bound plus 60%)")
	fs.DurationVar(&c.Converge, "converge-timeout", 30*time.Second, "how long nodes may take to equal the database once writes and faults stop")
	fs.StringVar(&c.BinDir, "bin", "", "directory with gintoki and gintoki-devbroker (empty: build them with go build)")
	fs.StringVar(&c.WorkDir, "work-dir", "", "directory for data and logs (empty: a temporary one)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the work directory (always kept when a run fails)")
	fs.BoolVar(&c.Verbose, "v", false, "log each fault and phase as it happens")
	fs.BoolVar(&c.FreshTopics, "fresh-topics", false, "start the nodes before the relay has created the change topics, as in a brand-new deployment "+
		"(default: one warm-up write creates them first, as in a deployment that has run before)")
	fs.StringVar(&c.KnownIssues, "known-issues", "", "comma-separated known service bugs whose violations are listed apart instead of failing the run ("+knownNames()+"); default none: every violation fails")
}

// flagEnv is the environment of the harness's flags: --seed is
// TORTURE_SEED. A variable set to the empty string counts as unset (a
// Makefile passes empty ones).
func flagEnv(lookup func(string) (string, bool)) flagenv.Env {
	return flagenv.Env{Prefix: "TORTURE_", Lookup: func(k string) (string, bool) {
		v, ok := lookup(k)
		return v, ok && v != ""
	}}
}

// parseConfig parses args; a flag not given takes its value from the
// environment (lookupEnv) when set there.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	env := flagEnv(lookupEnv)
	fs := flag.NewFlagSet("gintoki-torture", flag.ContinueOnError)
	env.SetUsage(fs, stderr, "Usage: gintoki-torture [flags]\n\nRuns the whole pipeline (MariaDB, dev broker, relay, nodes) under writes, reads and\nseeded random faults, and checks its promises. Exit status: 0 no violation, 1 violations,\n2 the run itself failed.\n")
	c.flags(fs)
	if err := env.Parse(fs, args); err != nil {
		return c, err
	}
	var err error
	if c.PauseMin == 0 {
		c.PauseMin = c.Bound + c.Bound/10
	}
	if c.PauseMax == 0 {
		c.PauseMax = c.Bound + c.Bound*6/10
	}
	if c.known, err = parseKnownIssues(c.KnownIssues); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c *config) validate() error {
	var errs []error
	if c.Runs < 1 || c.Nodes < 1 || c.Products < 1 || c.Hot < 1 || c.Hot > c.Products || c.Warehouses < 1 || c.Partitions < 1 || c.Readers < 1 {
		errs = append(errs, errors.New("--runs, --nodes, --products, --warehouses, --partitions and --readers must be positive, --hot between 1 and --products"))
	}
	if c.WriteRate < 1 || c.Duration <= 0 || c.Bound <= 0 || c.ReadTimeout <= 0 || c.Converge <= 0 {
		errs = append(errs, errors.New("--write-rate, --duration, --bound, --read-timeout and --converge-timeout must be positive"))
	}
	if c.GapMin < 0 || c.GapMax < c.GapMin || c.PauseMin < 0 || c.PauseMax < c.PauseMin {
		errs = append(errs, errors.New("fault gaps and pauses: min must not be negative nor above max"))
	}
	return errors.Join(errs...)
}

// boundFlags are the node flags that make the checked bound theirs.
func (c *config) boundFlags() []string {
	if c.maxStaleness {
		return []string{"--max-staleness", c.Bound.String()}
	}
	// Before --max-staleness: an unmarked answer is within the larger of
	// the two.
	return []string{"--max-lag", c.Bound.String(), "--heartbeat-timeout", c.Bound.String()}
}
