package main

import (
	"fmt"
	"sort"
	"time"
)

// A violation is one broken promise, with what a timeline needs: when, on
// which node, and which product and warehouse it is about.
type violation struct {
	Kind string // stale-unmarked, regression, phantom, divergence, topic-missing, topic-unknown, log, malformed
	Msg  string
	At   time.Duration
	Node int           // -1: not about one node
	P    int64         // 0: no product
	W    int           // 0: no warehouse
	Age  time.Duration // stale-unmarked: how old the answer was
	Ref  time.Duration // stale-unmarked: when the change it lacked was committed
}

// staleness is the worst an answer lacked, and which change.
type staleness struct {
	Age    time.Duration
	P      int64
	W      int
	Wh     bool    // the lacked change is the warehouse's
	Lacked version // the oldest change it lacks
}

// answerAge computes how old an answer is: the largest time, at the moment
// the request was sent, since a change it does not reflect was committed
// (COMMIT returned). A row shown with a value lacks every later version of
// the row and of its warehouse. A row not shown is explained in the most
// favourable way: deleted (or not yet inserted) at the latest such state,
// or, if the product was found, its warehouse inactive at the latest such
// state. It also reports answers that show values never committed.
func answerAge(h *history, o *observation) (staleness, []violation) {
	var worst staleness
	var bad []violation
	consider := func(a time.Duration, i int, vs []version, p int64, w int, wh bool) {
		if i >= 0 && a > worst.Age {
			worst = staleness{Age: a, P: p, W: w, Wh: wh, Lacked: vs[i]}
		}
	}
	for _, pv := range o.Products {
		shown := map[int]rowView{}
		for _, r := range pv.Rows {
			shown[r.W] = r
		}
		for w := 1; w <= h.warehouses; w++ {
			vs, wvs := h.row(pv.P, w), h.whs[w-1]
			r, ok := shown[w]
			if !ok {
				a, i := absentAge(vs, o.Sent, o.Recv)
				if pv.Found {
					if a2, i2 := absentAge(wvs, o.Sent, o.Recv); a2 < a {
						consider(a2, i2, wvs, pv.P, w, true)
						continue
					}
				}
				consider(a, i, vs, pv.P, w, false)
				continue
			}
			delete(shown, w)
			i, j := find(vs, r.Qty), find(wvs, r.K)
			if i < 0 || j < 0 || vs[i].Sent > o.Recv || wvs[j].Sent > o.Recv {
				bad = append(bad, violation{Kind: "phantom", At: o.Sent, Node: o.Node, P: pv.P, W: w,
					Msg: fmt.Sprintf("node%d showed p%d/w%d qty %d in warehouse %s: no such committed value (or committed after the answer)",
						o.Node, pv.P, w, r.Qty, warehouseCode(r.W, r.K))})
				continue
			}
			a, n := lackAge(vs, i, o.Sent)
			consider(a, n, vs, pv.P, w, false)
			a, n = lackAge(wvs, j, o.Sent)
			consider(a, n, wvs, pv.P, w, true)
		}
		for w := range shown {
			bad = append(bad, violation{Kind: "phantom", At: o.Sent, Node: o.Node, P: pv.P, W: w,
				Msg: fmt.Sprintf("node%d showed p%d in unknown warehouse %d", o.Node, pv.P, w)})
		}
	}
	return worst, bad
}

// point is one value a node showed for one row (or warehouse), for the
// monotonicity check.
type point struct {
	Sent, Recv time.Duration
	Val        int64
}

type seriesKey struct {
	Node int
	Inc  int32
	P    int64 // 0: the warehouse's code
	W    int
}

// monotonic checks that no node, within one incarnation, showed a row's
// value (or a warehouse's code) older than one it had shown in an answer
// received before the request was sent. Values are sequence numbers, so
// older is smaller.
func monotonic(obs []observation) (groups int, bad []violation) {
	series := map[seriesKey][]point{}
	for i := range obs {
		o := &obs[i]
		for _, pv := range o.Products {
			for _, r := range pv.Rows {
				k := seriesKey{o.Node, o.Inc, pv.P, r.W}
				series[k] = append(series[k], point{o.Sent, o.Recv, r.Qty})
				k.P = 0
				series[k] = append(series[k], point{o.Sent, o.Recv, r.K})
			}
		}
	}
	for k, ps := range series {
		byRecv := append([]point(nil), ps...)
		sort.Slice(byRecv, func(i, j int) bool { return byRecv[i].Recv < byRecv[j].Recv })
		sort.Slice(ps, func(i, j int) bool { return ps[i].Sent < ps[j].Sent })
		var best point
		j := 0
		for _, p := range ps {
			for j < len(byRecv) && byRecv[j].Recv < p.Sent {
				if byRecv[j].Val > best.Val {
					best = byRecv[j]
				}
				j++
			}
			if p.Val < best.Val {
				what := fmt.Sprintf("p%d/w%d qty", k.P, k.W)
				if k.P == 0 {
					what = fmt.Sprintf("warehouse %d code", k.W)
				}
				bad = append(bad, violation{Kind: "regression", At: p.Sent, Node: k.Node, P: k.P, W: k.W,
					Msg: fmt.Sprintf("node%d (incarnation %d) showed %s #%d to a request sent at %s, after showing #%d in an answer received at %s",
						k.Node, k.Inc, what, p.Val, at(p.Sent), best.Val, at(best.Recv))})
				break // one per series is enough
			}
		}
	}
	return len(series), bad
}
