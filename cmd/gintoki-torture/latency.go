package main

import (
	"fmt"
	"sort"
	"time"
)

// latencies are commit → visible delays grouped by the fault window the
// commit fell in.
type latencies map[string][]time.Duration

// windowOf names the fault whose window holds t: from its start to its
// healing plus the bound (the time the promise allows to catch up), or
// "none"; "overlap" when two windows hold it.
func windowOf(faults []fault, t, bound time.Duration) string {
	return windowOfSpan(faults, t, t, bound)
}

// windowOfSpan names the fault whose window meets the span from a to b,
// as windowOf does.
func windowOfSpan(faults []fault, a, b, bound time.Duration) string {
	name := "none"
	for _, f := range faults {
		if b >= f.Start && a <= f.End+bound {
			if name != "none" {
				return "overlap"
			}
			name = string(f.Kind)
		}
	}
	return name
}

// visibility measures, for every committed value of a hot product's row
// and every node, the time from COMMIT returning to the answer that first
// showed it (or a later value) being received: an upper bound of commit →
// visible, within one read of the truth for hot keys, which readers ask
// for all the time. Values committed before the readers started, and
// values never shown (hidden by a delete or a
// deactivation first, or in an inactive warehouse) are not counted. Each
// is grouped by the fault whose window meets the span from commit to
// visible.
func visibility(h *history, obs []observation, faults []fault, hot, nodes int, bound, readStart time.Duration) latencies {
	type key struct {
		node int
		p    int64
		w    int
	}
	series := map[key][]point{}
	for i := range obs {
		o := &obs[i]
		for _, pv := range o.Products {
			if pv.P > int64(hot) {
				continue
			}
			for _, r := range pv.Rows {
				k := key{o.Node, pv.P, r.W}
				series[k] = append(series[k], point{o.Sent, o.Recv, r.Qty})
			}
		}
	}
	for _, ps := range series {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Sent < ps[j].Sent })
	}
	out := latencies{}
	for p := int64(1); p <= int64(hot); p++ {
		for w := 1; w <= h.warehouses; w++ {
			vs := h.row(p, w)
			for k, v := range vs {
				if v.Tx == 0 || !v.Live || v.Done < readStart {
					continue
				}
				shown, hidden := shownUntil(vs[k+1:], h.whs[w-1], v.Done)
				if !shown {
					continue
				}
				for n := range nodes {
					ps := series[key{n, p, w}]
					i := sort.Search(len(ps), func(i int) bool { return ps[i].Sent >= v.Done })
					for ; i < len(ps) && ps[i].Sent < hidden; i++ {
						if ps[i].Val >= v.Seq {
							win := windowOfSpan(faults, v.Done, ps[i].Recv, bound)
							out[win] = append(out[win], ps[i].Recv-v.Done)
							break
						}
					}
				}
			}
		}
	}
	return out
}

// shownUntil reports whether a row value committed at done is shown at
// all (its warehouse is active then), and until when: the first later
// commit that hides the row (its delete, or its warehouse's deactivation).
func shownUntil(later, whs []version, done time.Duration) (bool, time.Duration) {
	active := false
	hidden := time.Duration(1 << 62)
	for _, v := range whs {
		if v.Done <= done {
			active = v.Live
		} else if !v.Live {
			hidden = v.Done
			break
		}
	}
	for _, v := range later {
		if !v.Live {
			hidden = min(hidden, v.Done)
			break
		}
	}
	return active, hidden
}

// summary is "n=… p50 … p99 … max …" of ds.
func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n=0"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(f float64) time.Duration { return ds[min(len(ds)-1, int(f*float64(len(ds))))] }
	r := func(d time.Duration) time.Duration {
		if d < 10*time.Millisecond {
			return d.Round(10 * time.Microsecond)
		}
		return d.Round(time.Millisecond)
	}
	return fmt.Sprintf("n=%d p50 %s p99 %s max %s", len(ds), r(q(0.5)), r(q(0.99)), r(ds[len(ds)-1]))
}
