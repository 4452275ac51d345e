package promexport

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// family is a metric family's HELP and TYPE lines, as exposed.
type family struct{ help, typ string }

// golden returns the HELP and TYPE of every gintoki_ metric of serve and
// relay that this package exports, as `gintoki serve` and `gintoki relay`
// exposed them before the collectors moved here (testdata/metrics.golden,
// taken from their /metrics): the dashboard, the alert rules and the
// benchmark read these names.
func golden(tb testing.TB) map[string]family {
	tb.Helper()
	f, err := os.Open("testdata/metrics.golden")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]family{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "# "), " ")
		name, text, _ := strings.Cut(rest, " ")
		fam := out[name]
		switch kind {
		case "HELP":
			fam.help = text
		case "TYPE":
			fam.typ = text
		default:
			tb.Fatalf("golden: unexpected line %q", sc.Text())
		}
		out[name] = fam
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// expose returns samples in the text format, each family preceded by its
// golden HELP and TYPE lines, for testutil.CollectAndCompare.
func expose(tb testing.TB, samples string) *strings.Reader {
	tb.Helper()
	g := golden(tb)
	var b strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(samples), "\n") {
		line = strings.TrimSpace(line)
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		if base, ok := histogramOf(name, g); ok {
			name = base
		}
		if !seen[name] {
			fam, ok := g[name]
			if !ok {
				tb.Fatalf("%s is not a golden metric", name)
			}
			b.WriteString("# HELP " + name + " " + fam.help + "\n# TYPE " + name + " " + fam.typ + "\n")
			seen[name] = true
		}
		b.WriteString(line + "\n")
	}
	return strings.NewReader(b.String())
}

// checkCollector compares what c collects with samples (golden HELP and
// TYPE added) and lints it.
func checkCollector(t *testing.T, c prometheus.Collector, samples string) {
	t.Helper()
	if err := testutil.CollectAndCompare(c, expose(t, samples)); err != nil {
		t.Error(err)
	}
	lint(t, c)
}

// lint fails on any problem promlint finds in what c collects.
func lint(t *testing.T, c prometheus.Collector) {
	t.Helper()
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// histogramOf returns the histogram family a sample name belongs to
// (name_bucket, name_sum, name_count), if it is one of the golden ones.
func histogramOf(sample string, g map[string]family) (string, bool) {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(sample, suffix); ok && g[base].typ == "histogram" {
			return base, true
		}
	}
	return "", false
}
