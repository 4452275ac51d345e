package grafana

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite gintoki.json from the panel list")

// The committed gintoki.json is what the panel list generates (make
// dashboard rewrites it).
func TestDashboardUpToDate(t *testing.T) {
	got, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("gintoki.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("gintoki.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("gintoki.json is not what panels.go generates: run make dashboard")
	}
}

func TestQueries(t *testing.T) {
	data, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	qs, err := Queries(data)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		for _, p := range r.panels {
			n += len(p.targets)
		}
	}
	if len(qs) != n+1 {
		t.Fatalf("%d queries, want %d targets + 1 variable", len(qs), n)
	}
	last := qs[len(qs)-1]
	if last.Panel != "variable instance" || last.Expr != `group by (instance) (gintoki_ready{job="gintoki"})` {
		t.Errorf("variable query = %+v", last)
	}
	titles := map[string]bool{}
	for _, r := range rows {
		for _, p := range r.panels {
			if titles[p.title] {
				t.Errorf("two panels titled %q", p.title)
			}
			titles[p.title] = true
			for _, tg := range p.targets {
				if strings.Contains(tg.expr, "rate(") && !strings.Contains(tg.expr, "$__rate_interval") {
					t.Errorf("%s: %s: rate without $__rate_interval", p.title, tg.expr)
				}
			}
		}
	}
	if _, err := Queries([]byte(`{"templating": {"list": [{"name": "x", "type": "query", "query": "up"}]}}`)); err == nil {
		t.Error("a variable query other than label_values was accepted")
	}
}
