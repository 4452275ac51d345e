package main

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// An episode is a run of stale-unmarked answers of one node, each less
// than a second after the previous one: usually one cause.
type episode struct {
	Node     int
	From, To time.Duration
	Count    int
	MaxAge   time.Duration
	First    violation
	Worst    violation // the oldest answer
	After    string    // the latest fault started before the first one
}

// episodes groups the stale-unmarked violations.
func episodes(vs []violation, faults []fault) []episode {
	var stale []violation
	for _, v := range vs {
		if v.Kind == "stale-unmarked" {
			stale = append(stale, v)
		}
	}
	sort.Slice(stale, func(i, j int) bool {
		if stale[i].Node != stale[j].Node {
			return stale[i].Node < stale[j].Node
		}
		return stale[i].At < stale[j].At
	})
	var eps []episode
	for _, v := range stale {
		if n := len(eps); n > 0 && eps[n-1].Node == v.Node && v.At-eps[n-1].To < time.Second {
			e := &eps[n-1]
			e.To, e.Count = v.At, e.Count+1
			if v.Age > e.MaxAge {
				e.MaxAge, e.Worst = v.Age, v
			}
			continue
		}
		eps = append(eps, episode{Node: v.Node, From: v.At, To: v.At, Count: 1, MaxAge: v.Age, First: v, Worst: v,
			After: latestFault(faults, v.At)})
	}
	return eps
}

// latestFault describes the last fault started before t.
func latestFault(faults []fault, t time.Duration) string {
	desc := "none"
	for _, f := range faults {
		if f.Start <= t {
			desc = fmt.Sprintf("%s %s %s–%s", f.Kind, f.Target, at(f.Start), at(f.End))
		}
	}
	return desc
}

func printEpisodes(w io.Writer, eps []episode) {
	if len(eps) == 0 {
		return
	}
	fmt.Fprintf(w, "stale-unmarked episodes (answers of one node less than 1 s apart):\n")
	for _, e := range eps {
		fmt.Fprintf(w, "  node%d %s–%s: %d answers, max age %s; latest fault: %s\n",
			e.Node, at(e.From), at(e.To), e.Count, e.MaxAge.Round(time.Millisecond), e.After)
	}
}
