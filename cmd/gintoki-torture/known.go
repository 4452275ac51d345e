package main

import (
	"fmt"
	"strings"
	"time"
)

// A knownIssue is a bug of the service, reported and being fixed
// elsewhere, whose violations a run lists apart instead of failing on
// them — only when asked to by name (--known-issues). By default every
// violation fails the run.
type knownIssue struct {
	Name  string
	What  string
	Match func(v violation, faults []fault, bound time.Duration) bool
}

var knownIssues = []knownIssue{{
	Name: "lag-after-outage",
	What: "issue 13: a node measures its lag from when its probe notices a backlog (not from the oldest " +
		"unconsumed record) and re-evaluates the stale mark every 250 ms, so after a fault that kept it from " +
		"consuming (node paused, broker killed, relay or database stopped) it can drop the stale mark while " +
		"still older than the bound. Matches stale-unmarked answers sent during a fault or within 3 bounds after it is healed.",
	Match: func(v violation, faults []fault, bound time.Duration) bool {
		return v.Kind == "stale-unmarked" && windowOf(faults, v.At, 3*bound) != "none"
	},
}}

// parseKnownIssues checks a comma-separated list of known-issue names.
func parseKnownIssues(list string) ([]knownIssue, error) {
	var out []knownIssue
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		found := false
		for _, k := range knownIssues {
			if k.Name == name {
				out, found = append(out, k), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown known issue %q (known: %s)", name, knownNames())
		}
	}
	return out, nil
}

func knownNames() string {
	var ns []string
	for _, k := range knownIssues {
		ns = append(ns, k.Name)
	}
	return strings.Join(ns, ", ")
}

// setKnownApart moves the violations the given known issues match from
// res.Violations to res.Known.
func setKnownApart(res *result, known []knownIssue) {
	if len(known) == 0 {
		return
	}
	var keep []violation
	for _, v := range res.Violations {
		matched := false
		for _, k := range known {
			if k.Match(v, res.Faults, res.Bound) {
				matched = true
				res.Known = append(res.Known, v)
				break
			}
		}
		if !matched {
			keep = append(keep, v)
		}
	}
	res.Violations = keep
}
