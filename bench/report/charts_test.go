package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The charts are drawn from a fixed result set into a directory, each a
// well-formed, non-empty SVG, and the report embeds them.
func TestRenderCharts(t *testing.T) {
	r := fullReport()
	for i := range 500 {
		r.Fresh.Runs[0].Visible = append(r.Fresh.Runs[0].Visible, time.Duration(1+i%17)*time.Millisecond)
	}
	r.Fresh.Runs[0].Visible = append(r.Fresh.Runs[0].Visible, TimedOut)
	dir := t.TempDir()
	charts, err := RenderCharts(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"benchmarks-throughput.svg", "benchmarks-p99.svg", "benchmarks-commit-to-visible.svg"}
	if len(charts) != len(want) {
		t.Fatalf("charts %v, want %v", charts, want)
	}
	for i, c := range charts {
		if c.File != want[i] {
			t.Errorf("chart %d is %s, want %s", i, c.File, want[i])
		}
		data, err := os.ReadFile(filepath.Join(dir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		if n := svgElements(t, data); n < 20 {
			t.Errorf("%s: %d elements: nearly empty", c.File, n)
		}
	}
	throughput, _ := os.ReadFile(filepath.Join(dir, want[0]))
	for _, s := range []string{"HTTP GET", "bare net/http", "--no-cache", "gRPC GetInventory", "gRPC BatchGetInventory (100 ids)", "bare grpc-go"} {
		if !bytes.Contains(throughput, []byte(s)) {
			t.Errorf("the throughput chart lacks %q", s)
		}
	}
	visible, _ := os.ReadFile(filepath.Join(dir, want[2]))
	if !bytes.Contains(visible, []byte("reads at 20,000 req/s, open loop (500)")) {
		t.Error("the commit → visible chart does not count the run's 500 samples (the timeout left out)")
	}

	r.Charts = charts
	md := r.Markdown()
	for _, c := range charts {
		if !strings.Contains(md, "]("+c.File+")") {
			t.Errorf("the report does not embed %s", c.File)
		}
	}
	if !strings.Contains(md, "](fleet-latency.svg)") {
		t.Error("the report does not embed the rolling restart's chart (docs/fleet-latency.svg)")
	}
}

// Phases that did not run draw no chart and the report has no section.
func TestRenderChartsWithoutFigures(t *testing.T) {
	r := &Report{StackErr: errors.New("database down")}
	charts, err := RenderCharts(t.TempDir(), r)
	if err != nil || len(charts) != 0 {
		t.Fatalf("charts %v, err %v: want none", charts, err)
	}
	if strings.Contains(r.Markdown(), "## Charts") {
		t.Error("a Charts section without charts")
	}
}

// svgElements parses an SVG to the end and returns its number of elements.
func svgElements(t *testing.T, data []byte) int {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	n, root := 0, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			n++
		}
	}
	if root != "svg" {
		t.Fatalf("root element <%s>, want <svg>", root)
	}
	return n
}
