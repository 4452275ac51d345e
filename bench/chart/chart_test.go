package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// wellFormedSVG parses svg to the end and checks its root is <svg> and
// that it holds drawing elements and each text.
func wellFormedSVG(t *testing.T, svg []byte, texts ...string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	root, paths := "", 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "path" {
				paths++
			}
		}
	}
	if root != "svg" || paths < 5 {
		t.Errorf("root <%s>, %d paths: not a drawing", root, paths)
	}
	for _, s := range texts {
		if !bytes.Contains(svg, []byte(s)) {
			t.Errorf("the SVG lacks %q", s)
		}
	}
}

func TestBars(t *testing.T) {
	var b bytes.Buffer
	err := Bars(&b, []Panel{
		{Title: "HTTP GET", Unit: "req/s", Bars: []Bar{{"gintoki", 90203, 87789, 91652}, {"bare net/http", 94199, 93104, 95719}}},
		{Title: "gRPC Get", Unit: "calls/s", Bars: []Bar{{"gintoki", 60738, 58149, 61069}, {"bare grpc-go", math.NaN(), 0, 0}}},
		{Title: "empty", Unit: "x", Bars: []Bar{{"none", math.NaN(), 0, 0}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b.Bytes(), "HTTP GET", "gRPC Get", "bare net/http", "req/s")
	if strings.Contains(b.String(), "empty") || strings.Contains(b.String(), "bare grpc-go") {
		t.Error("a bar or panel without data was drawn")
	}
	if err := Bars(io.Discard, []Panel{{Title: "empty", Bars: []Bar{{"x", math.NaN(), 0, 0}}}}); !errors.Is(err, ErrNoData) {
		t.Errorf("nothing to draw: err = %v, want ErrNoData", err)
	}
}

func TestCDF(t *testing.T) {
	var b bytes.Buffer
	err := CDF(&b, "commit → visible", "ms", []Series{
		{Label: "20,000 reads/s", Values: []float64{3.1, 2.2, 8.8, 4.0, math.Inf(1), 5.5}},
		{Label: "1,000 reads/s", Values: []float64{1.1, 2.9, 1.7}},
		{Label: "no samples"},
	}, Mark{Label: "target p99 20 ms", X: 20})
	if err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b.Bytes(), "20,000 reads/s (5)", "1,000 reads/s (3)", "target p99 20 ms", "ms")
	if strings.Contains(b.String(), "no samples") {
		t.Error("a series without samples is in the legend")
	}
	if err := CDF(io.Discard, "t", "ms", []Series{{Label: "x", Values: []float64{math.NaN()}}}); !errors.Is(err, ErrNoData) {
		t.Errorf("nothing to draw: err = %v, want ErrNoData", err)
	}
}
