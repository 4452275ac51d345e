package fleet

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/gintoki/gintoki/bench/chart"
	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/stats"
)

// drawFleetChart writes the load's p50, p99 and max latency per second
// (ms) across the run to path as SVG, the restart windows shaded.
func drawFleetChart(path string, samples []loadgen.Sample, start time.Time, events []fleetEvent) error {
	end := start
	if len(samples) > 0 {
		end = start.Add(samples[len(samples)-1].At + time.Nanosecond)
	}
	_, restarts, err := fleetWindows(events, start, end)
	if err != nil {
		return err
	}
	lines := []chart.Line{{Label: "p50"}, {Label: "p99"}, {Label: "max"}}
	i := 0
	for sec := 0; start.Add(time.Duration(sec) * time.Second).Before(end); sec++ {
		to := time.Duration(sec+1) * time.Second
		j := i
		for j < len(samples) && samples[j].At < to {
			j++
		}
		st := loadgen.Summarise(samples[i:j])
		i = j
		x := float64(sec) + 0.5
		for k, v := range []time.Duration{st.P50, st.P99, st.Max} {
			y := stats.MS(v)
			if st.Requests == 0 {
				y = math.NaN()
			}
			lines[k].X, lines[k].Y = append(lines[k].X, x), append(lines[k].Y, y)
		}
	}
	var bands []chart.Band
	for _, r := range restarts {
		bands = append(bands, chart.Band{Label: r.Label, From: r.From.Sub(start).Seconds(), To: r.To.Sub(start).Seconds()})
	}
	var b bytes.Buffer
	if err := chart.TimeSeries(&b, "Latency through the proxy across the rolling restart (per second)", "seconds from the load's start",
		"ms from the scheduled time", lines, bands); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}
