// Package chart draws the benchmark report's charts as SVG with
// gonum.org/v1/plot: bar charts of a figure measured over several rounds
// (median, with the rounds' range as an error bar), side by side per
// comparison, and cumulative distributions of latency samples. It knows
// nothing of the benchmark: callers hand it numbers and labels.
//
// It imports no project package.
package chart

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ErrNoData is returned for a chart with nothing to draw.
var ErrNoData = errors.New("chart: no data")

// Bar is one contender's figure: the median over the rounds and their
// range.
type Bar struct {
	Label            string
	Median, Min, Max float64
}

// Panel is one comparison, drawn with a y axis of its own.
type Panel struct {
	Title string // e.g. "HTTP GET"
	Unit  string // the y axis label, e.g. "req/s"
	Bars  []Bar
}

// Bars writes panels side by side as one SVG. Bars whose median is not a
// number are left out; a panel left with no bar is left out; with no
// panel left it returns ErrNoData.
func Bars(w io.Writer, panels []Panel) error {
	var plots []*plot.Plot
	for _, pn := range panels {
		p, err := barPlot(pn)
		if errors.Is(err, ErrNoData) {
			continue
		}
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return ErrNoData
	}
	c := vgsvg.New(vg.Length(len(plots))*3.2*vg.Inch, 3.6*vg.Inch)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Points(18), PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, draw.New(c))
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("chart: write SVG: %w", err)
	}
	return nil
}

func barPlot(pn Panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.Y.Label.Text = pn.Unit
	p.Y.Min = 0
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	var labels []string
	for _, b := range pn.Bars {
		if math.IsNaN(b.Median) || math.IsInf(b.Median, 0) {
			continue
		}
		x := float64(len(labels))
		bc, err := plotter.NewBarChart(plotter.Values{b.Median}, vg.Points(36))
		if err != nil {
			return nil, fmt.Errorf("chart: %s: %w", pn.Title, err)
		}
		bc.XMin = x
		bc.Color = plotutil.Color(len(labels))
		bc.LineStyle.Width = 0
		p.Add(bc)
		lo, hi := b.Median-b.Min, b.Max-b.Median
		if !math.IsNaN(lo) && !math.IsNaN(hi) && lo >= 0 && hi >= 0 && lo+hi > 0 {
			eb, err := plotter.NewYErrorBars(errPoint{x: x, y: b.Median, lo: lo, hi: hi})
			if err != nil {
				return nil, fmt.Errorf("chart: %s: %w", pn.Title, err)
			}
			eb.CapWidth = vg.Points(10)
			p.Add(eb)
		}
		labels = append(labels, b.Label)
	}
	if len(labels) == 0 {
		return nil, ErrNoData
	}
	p.NominalX(labels...)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	return p, nil
}

// errPoint is one error bar.
type errPoint struct{ x, y, lo, hi float64 }

func (e errPoint) Len() int                       { return 1 }
func (e errPoint) XY(int) (float64, float64)      { return e.x, e.y }
func (e errPoint) YError(int) (low, high float64) { return e.lo, e.hi }

// Series is one set of samples of a distribution.
type Series struct {
	Label  string
	Values []float64 // any order; NaN and infinities are left out
}

// Mark is a vertical reference line, such as a target.
type Mark struct {
	Label string
	X     float64
}

// CDF writes the cumulative distributions of series as one SVG: for each
// x, the share of a series' samples at or below it. A series without
// Samples is left out; with none left it returns ErrNoData.
func CDF(w io.Writer, title, xLabel string, series []Series, marks ...Mark) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "share of samples at or below"
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1
	p.Add(plotter.NewGrid())
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(6)
	p.Legend.YOffs = vg.Points(6)
	drawn := 0
	for i, s := range series {
		vs := slices.DeleteFunc(slices.Clone(s.Values), func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
		if len(vs) == 0 {
			continue
		}
		slices.Sort(vs)
		xys := make(plotter.XYs, 0, len(vs)+1)
		xys = append(xys, plotter.XY{X: vs[0], Y: 0})
		for j, v := range vs {
			xys = append(xys, plotter.XY{X: v, Y: float64(j+1) / float64(len(vs))})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("chart: %s: %w", s.Label, err)
		}
		l.StepStyle = plotter.PostStep
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%d)", s.Label, len(vs)), l)
		drawn++
	}
	if drawn == 0 {
		return ErrNoData
	}
	for _, m := range marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.X, Y: 0}, {X: m.X, Y: 1}})
		if err != nil {
			return fmt.Errorf("chart: mark %s: %w", m.Label, err)
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Color = plotutil.Color(7)
		p.Add(l)
		p.Legend.Add(m.Label, l)
	}
	wt, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "svg")
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("chart: write SVG: %w", err)
	}
	return nil
}
