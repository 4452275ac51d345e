package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Line is one quantity over time.
type Line struct {
	Label string
	X, Y  []float64 // same length; points with a NaN Y are left out
}

// Band is a shaded stretch of the x axis, such as a node's restart.
type Band struct {
	Label    string
	From, To float64
}

// TimeSeries writes lines over a shared x axis as one SVG, with bands
// shaded behind them. With no point to draw it returns ErrNoData.
func TimeSeries(w io.Writer, title, xLabel, yLabel string, lines []Line, bands []Band) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	var xys []plotter.XYs
	top := 0.0
	for _, l := range lines {
		pts := make(plotter.XYs, 0, len(l.X))
		for i := range min(len(l.X), len(l.Y)) {
			if math.IsNaN(l.Y[i]) || math.IsInf(l.Y[i], 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: l.X[i], Y: l.Y[i]})
			top = max(top, l.Y[i])
		}
		xys = append(xys, pts)
	}
	if top == 0 {
		return ErrNoData
	}
	for i, b := range bands {
		poly, err := plotter.NewPolygon(plotter.XYs{{X: b.From, Y: 0}, {X: b.To, Y: 0}, {X: b.To, Y: top}, {X: b.From, Y: top}})
		if err != nil {
			return fmt.Errorf("chart: band %s: %w", b.Label, err)
		}
		poly.Color = color.NRGBA{R: 200, G: 200, B: 200, A: uint8(70 + 30*(i%2))}
		poly.LineStyle.Width = 0
		p.Add(poly)
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: b.From, Y: top}}, Labels: []string{b.Label}})
		if err == nil {
			p.Add(lbl)
		}
	}
	for i, pts := range xys {
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("chart: %s: %w", lines[i].Label, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(lines[i].Label, l)
	}
	wt, err := p.WriterTo(9*vg.Inch, 4*vg.Inch, "svg")
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("chart: write SVG: %w", err)
	}
	return nil
}
