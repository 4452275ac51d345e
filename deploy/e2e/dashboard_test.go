package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gintoki/gintoki/deploy/grafana"
	"github.com/gintoki/gintoki/deploy/internal/gintokibin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	gintokibin.Cleanup()
	os.Exit(code)
}

// Grafana's variables, as the test sets them: every node, and a rate
// window of several scrapes.
var variables = strings.NewReplacer("$__rate_interval", "20s", "$instance", ".*")

// Every query of deploy/grafana/gintoki.json, run by a real Prometheus
// scraping a real stack under load, parses and returns data: at least one
// series, and not only NaN (a quantile of nothing, a ratio of zeros).
func TestDashboardQueriesReturnData(t *testing.T) {
	root := gintokibin.RepoRoot()
	dashboard, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "gintoki.json"))
	if err != nil {
		t.Fatal(err)
	}
	queries, err := grafana.Queries(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	bins := gintokibin.Build(t)
	s := startStack(t, root, bins)

	ctx, stop := context.WithCancel(context.Background())
	loadErr := make(chan error, 1)
	go func() { loadErr <- s.load(ctx) }()
	defer func() {
		stop()
		if err := <-loadErr; err != nil {
			t.Error(err)
		}
	}()

	p := startPrometheus(t, root, s)

	// Scrapes happened: both targets up, with enough samples in the rate
	// window for rate() to have two points.
	waitFor(t, p, 90*time.Second, `min(count_over_time(up[20s])) >= 4 and min(up) == 1`)

	t.Run("every panel query", func(t *testing.T) {
		deadline := time.Now().Add(60 * time.Second)
		for _, q := range queries {
			expr := variables.Replace(q.Expr)
			var last string
			for {
				res, err := p.query(expr)
				if err != nil {
					t.Errorf("%s: %s: %v", q.Panel, expr, err) // does not parse or evaluate: no retry helps
					break
				}
				if hasData(res) {
					break
				}
				last = fmt.Sprint(res)
				if time.Now().After(deadline) {
					t.Errorf("%s: %s returns no data: %s", q.Panel, expr, last)
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
		}
		t.Logf("%d queries checked", len(queries))
	})

	t.Run("alert rules evaluate", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			health, err := p.rules()
			if err != nil {
				t.Fatal(err)
			}
			var bad []string
			for name, h := range health {
				if !strings.HasPrefix(h, "ok") {
					bad = append(bad, name+": "+h)
				}
			}
			if len(health) > 0 && len(bad) == 0 {
				t.Logf("%d rules evaluated without error", len(health))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("rules not healthy (%d loaded): %v", len(health), bad)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	t.Run("the manifests' probes answer", func(t *testing.T) {
		for file, addr := range map[string]string{"serve-deployment.yaml": s.http, "relay-deployment.yaml": s.relay} {
			for _, path := range probePaths(t, filepath.Join(root, "deploy", "kubernetes", file)) {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: GET %s = %s on the running stack", file, path, resp.Status)
				}
			}
		}
	})
}

// hasData reports whether a result has a sample that is a number.
func hasData(res []sample) bool {
	for _, s := range res {
		if !math.IsNaN(s.value()) {
			return true
		}
	}
	return false
}

// waitFor polls a query until it returns a sample.
func waitFor(t *testing.T, p *prometheus, within time.Duration, q string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := p.query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(res) > 0 {
			return
		}
		if time.Now().After(deadline) {
			up, _ := p.query("up")
			t.Fatalf("%s: still nothing after %s; up = %v", q, within, up)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// probePaths returns the HTTP paths of a Deployment's probes.
func probePaths(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var paths []string
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if p != nil && p.HTTPGet != nil {
				paths = append(paths, p.HTTPGet.Path)
			}
		}
	}
	if len(paths) == 0 {
		t.Fatalf("%s: no HTTP probes", file)
	}
	return paths
}
