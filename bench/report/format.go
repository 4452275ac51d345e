package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/stats"
)

// mdWriter accumulates Markdown.
type mdWriter struct{ strings.Builder }

func (w *mdWriter) line(s string) {
	w.WriteString(s)
	w.WriteByte('\n')
}

// row writes a table row; pipes in cells are escaped.
func (w *mdWriter) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	w.line("| " + strings.Join(cells, " | ") + " |")
}

// spread renders a series as "median (min–max)".
func spread(s stats.Series, f func(float64) string) string {
	if len(s) == 0 {
		return "–"
	}
	if len(s) == 1 {
		return f(s[0])
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median()), f(s.Min()), f(s.Max()))
}

// count renders a number with thousands separators and no decimals.
func count(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func msf(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func coresf(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// Pct renders a share as a percentage with up to 3 decimals.
func Pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	s := strconv.FormatFloat(100*v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// secs renders seconds as milliseconds.
func secs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, +1):
		return "> largest bucket"
	}
	return strconv.FormatFloat(1000*v, 'f', 3, 64) + " ms"
}

// Visible renders a commit → visible time.
func Visible(d time.Duration) string {
	if d >= TimedOut {
		return fmt.Sprintf("> %s (timed out)", PollGiveUp)
	}
	return strconv.FormatFloat(stats.MS(d), 'f', 2, 64) + " ms"
}

func mib(v float64) string { return strconv.FormatFloat(v/(1<<20), 'f', 1, 64) + " MiB" }

func cores(n int) string {
	if n == 1 {
		return "1 CPU"
	}
	return strconv.Itoa(n) + " CPUs"
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// oneLine shortens an error for a table cell.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func secsf(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func onef(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
