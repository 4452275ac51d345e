package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// prometheus is a Prometheus server started for one test.
type prometheus struct {
	base string
	log  *bytes.Buffer
}

// startPrometheus runs Debian's prometheus on a free port with its own
// storage, scraping the stack every second as jobs "gintoki" and
// "gintoki-relay" (the names deploy/prometheus/prometheus.yml uses) and
// evaluating deploy/prometheus/alerts.yml. Cleanup stops it.
func startPrometheus(t *testing.T, root string, s *stack) *prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus not found: run scripts/deps.sh --deploy (Debian package prometheus)")
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: gintoki
    static_configs: [{targets: [%q]}]
  - job_name: gintoki-relay
    static_configs: [{targets: [%q]}]
`, filepath.Join(root, "deploy", "prometheus", "alerts.yml"), s.http, s.relay)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := &prometheus{base: "http://" + addr, log: new(bytes.Buffer)}
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--config.file="+cfgPath, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", p.log)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(p.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready within a minute\n%s", p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sample is one element of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [time, "value"]
}

func (s sample) value() float64 {
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// query runs an instant query. An error means the query did not parse or
// did not evaluate; an empty result is not an error.
func (p *prometheus) query(q string) ([]sample, error) {
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("decode the answer (%s): %w", resp.Status, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var v []sample
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, err
		}
		return v, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, err
		}
		return []sample{{Value: v}}, nil
	}
	return nil, fmt.Errorf("result type %s, want a vector", r.Data.ResultType)
}

// rules returns the health of every rule Prometheus evaluates, by name,
// with its last error.
func (p *prometheus) rules() (map[string]string, error) {
	resp, err := http.Get(p.base + "/api/v1/rules")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			out[rule.Name] = rule.Health + " " + rule.LastError
		}
	}
	return out, nil
}
