package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// maxTimelines bounds the timelines printed per run; the rest of the
// violations are listed by their message.
const maxTimelines = 10

// report prints one run's figures, and a timeline for each violation.
func report(w io.Writer, cfg config, res *result) {
	fmt.Fprintf(w, "\n== seed %d: %s (repeat: make torture SEED=%d DURATION=%s)\n", res.Seed, verdict(res), res.Seed, cfg.Duration)
	fmt.Fprintf(w, "bound %s (nodes run with %s); work dir %s\n", res.Bound, res.BoundFlags, res.Dir)
	fmt.Fprintf(w, "writes: %d committed (%d after a failed COMMIT, checked), %d failed\n", res.Writes[0], countUncertain(res.Hist), res.Writes[1])
	fmt.Fprintf(w, "faults: %s\n", faultCounts(res.Faults))
	for _, f := range res.Faults {
		fmt.Fprintf(w, "  %8s – %8s  %-14s %-7s %s\n", at(f.Start), at(f.End), f.Kind, f.Target, f.Note)
	}
	rows := 0
	for _, o := range res.Obs {
		rows += len(o.Products)
	}
	fmt.Fprintf(w, "observations: %d answers (%d product views), %d marked stale; read errors: %s\n", len(res.Obs), rows, res.StaleCount, mapLine(res.Errors))
	fmt.Fprintf(w, "unmarked age max: %s", res.UnmarkedMax.Age.Round(time.Millisecond))
	if res.UnmarkedMax.Age > 0 {
		fmt.Fprintf(w, " (p%d/w%d)", res.UnmarkedMax.P, res.UnmarkedMax.W)
	}
	fmt.Fprintf(w, "\nmonotonicity: %d series; topics: %d records, %d duplicates, %d missing; converged in %s\n",
		res.Groups, res.Topics.Records, res.Topics.Duplicates, len(res.Topics.Missing), res.Converged.Round(time.Millisecond))
	fmt.Fprintf(w, "commit → visible (hot keys, by fault window):\n")
	for _, k := range sortedKeys(res.Latency) {
		fmt.Fprintf(w, "  %-15s %s\n", k, summary(res.Latency[k]))
	}
	if len(res.LogsOK) > 0 {
		fmt.Fprintf(w, "explained error log lines: %s\n", mapLine(res.LogsOK))
	}
	byKind := map[string]int{}
	for _, v := range res.Violations {
		byKind[v.Kind]++
	}
	fmt.Fprintf(w, "violations: %d %s\n", len(res.Violations), mapLine(byKind))
	if len(res.Known) > 0 {
		fmt.Fprintf(w, "known issues (--known-issues %s), listed, not failing: %d violations\n", cfg.KnownIssues, len(res.Known))
		known := episodes(res.Known, res.Faults)
		printEpisodes(w, known)
		// A timeline of the oldest answer after each kind of fault: what
		// the issue's fix must change.
		worst := map[string]violation{}
		for _, e := range known {
			kind, _, _ := strings.Cut(e.After, " ")
			if e.MaxAge > worst[kind].Age {
				worst[kind] = e.Worst
			}
		}
		for _, kind := range sortedKeys(worst) {
			v := worst[kind]
			fmt.Fprintf(w, "\n(known, the oldest after a %s) %s: %s\n", kind, v.Kind, v.Msg)
			timeline(w, res, v)
		}
		fmt.Fprintln(w)
	}
	eps := episodes(res.Violations, res.Faults)
	printEpisodes(w, eps)
	// A timeline for the first answer of each episode and for the other
	// violations, up to maxTimelines; then messages only, up to 50.
	var shown []violation
	for _, e := range eps {
		shown = append(shown, e.First)
	}
	for _, v := range res.Violations {
		if v.Kind != "stale-unmarked" {
			shown = append(shown, v)
		}
	}
	for i, v := range shown {
		if i >= 50 {
			fmt.Fprintf(w, "\n… and %d more\n", len(shown)-i)
			break
		}
		fmt.Fprintf(w, "\n[%d] %s: %s\n", i+1, v.Kind, v.Msg)
		if i < maxTimelines && v.P > 0 {
			timeline(w, res, v)
		}
	}
}

func verdict(res *result) string {
	if len(res.Violations) == 0 {
		return "PASS"
	}
	return fmt.Sprintf("FAIL (%d violations)", len(res.Violations))
}

func at(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func countUncertain(h *history) int {
	n := 0
	for _, t := range h.txs {
		if t.Uncertain {
			n++
		}
	}
	return n
}

func faultCounts(fs []fault) string {
	m := map[string]int{}
	for _, f := range fs {
		m[string(f.Kind)]++
	}
	return fmt.Sprintf("%d %s", len(fs), mapLine(m))
}

func mapLine(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// timeline prints what surrounds a violation: the writes of its row and
// of its warehouse, the faults, and the node's answers for its product,
// from twice the bound before to a second after.
func timeline(w io.Writer, res *result, v violation) {
	from, to := v.At-2*res.Bound-time.Second, v.At+time.Second
	if v.Ref > 0 {
		from = min(from, v.Ref-time.Second)
	}
	type line struct {
		t    time.Duration
		text string
	}
	var ls []line
	for _, f := range res.Faults {
		if f.End >= from && f.Start <= to {
			ls = append(ls, line{f.Start, fmt.Sprintf("fault   %s %s %s (healed at %s)", f.Kind, f.Target, f.Note, at(f.End))})
		}
	}
	txs := map[int]bool{}
	var vers []version
	if v.W > 0 {
		vers = append(vers, res.Hist.row(v.P, v.W)...)
		vers = append(vers, res.Hist.whs[v.W-1]...)
	} else {
		for wh := 1; wh <= res.Hist.warehouses; wh++ {
			vers = append(vers, res.Hist.row(v.P, wh)...)
		}
	}
	var writes []line
	for _, ver := range vers {
		t := res.Hist.txs[ver.Tx]
		if ver.Tx > 0 && !txs[ver.Tx] && t.Done >= from && t.Sent <= to {
			txs[ver.Tx] = true
			note := ""
			if t.Uncertain {
				note = " (COMMIT failed; found committed)"
			}
			writes = append(writes, line{t.Done, fmt.Sprintf("commit  tx %d: %s (COMMIT sent %s)%s", ver.Tx, t.What, at(t.Sent), note)})
		}
	}
	// The writes nearest the change the answer lacked, or the violation.
	dist := func(t time.Duration) time.Duration {
		if v.Ref > 0 {
			return min(abs(t-v.Ref), abs(t-v.At))
		}
		return abs(t - v.At)
	}
	sort.Slice(writes, func(i, j int) bool { return dist(writes[i].t) < dist(writes[j].t) })
	ls = append(ls, writes[:min(len(writes), 10)]...)
	var near []line
	for i := range res.Obs {
		o := &res.Obs[i]
		if o.Node != v.Node || o.Sent < from || o.Sent > to {
			continue
		}
		for _, pv := range o.Products {
			if pv.P == v.P {
				stale := ""
				if o.Stale {
					stale = " STALE"
				}
				near = append(near, line{o.Sent, fmt.Sprintf("read    node%d/%d %s p%d → %s (received %s)%s",
					o.Node, o.Inc, kindOf(o), pv.P, render(pv), at(o.Recv), stale)})
			}
		}
	}
	// The answers nearest the violation.
	sort.Slice(near, func(i, j int) bool { return abs(near[i].t-v.At) < abs(near[j].t-v.At) })
	ls = append(ls, near[:min(len(near), 12)]...)
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].t < ls[j].t })
	for _, l := range ls {
		mark := "  "
		if l.t == v.At {
			mark = "▶ "
		}
		fmt.Fprintf(w, "  %s%9s  %s\n", mark, at(l.t), l.text)
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
