package fleet

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
)

func TestParseMarks(t *testing.T) {
	evs, err := parseMarks(strings.NewReader("1000 steady\n\n2500 restart-begin node1\n2600 sigterm node1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[1].Name != markRestartBegin || evs[1].Node != "node1" || evs[1].At.UnixMilli() != 2500 {
		t.Errorf("parsed %+v", evs)
	}
	for _, bad := range []string{"x steady\n", "1000\n", "1000 a b c\n"} {
		if _, err := parseMarks(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A load of 10 s at 10 requests per second: 100 ms of latency, except
// inside node1's restart (seconds 4 to 6), where it is 400 ms and one
// request fails.
func fleetFixture() (samples []loadgen.Sample, start time.Time, events []fleetEvent, db []probe.DBStatus, cpu []probe.CPUTimes) {
	start = time.UnixMilli(1_000_000)
	at := func(sec float64) time.Time { return start.Add(time.Duration(sec * float64(time.Second))) }
	for i := range 100 {
		s := loadgen.Sample{At: time.Duration(i) * 100 * time.Millisecond, Lat: 100 * time.Millisecond, OK: true}
		if s.At >= 4*time.Second && s.At < 6*time.Second {
			s.Lat = 400 * time.Millisecond
		}
		if i == 50 {
			s.OK, s.Retried = false, true
		}
		samples = append(samples, s)
	}
	events = []fleetEvent{
		{At: at(1), Name: markSteady},
		{At: at(4), Name: markRestartBegin, Node: "node1"},
		{At: at(4.5), Name: "down", Node: "node1"},
		{At: at(6), Name: markRestartEnd, Node: "node1"},
	}
	// 100 statements/s, 500/s during the restart.
	q := 0.0
	for sec := 0; sec <= 10; sec++ {
		db = append(db, probe.DBStatus{At: at(float64(sec) + 0.5), Questions: q, Selects: q / 2})
		if sec >= 4 && sec < 5 {
			q += 500
		} else {
			q += 100
		}
	}
	// The machine's CPU: 40% busy, 90% during the restart (readings at
	// 4.5 s and 5.5 s).
	var busy, total float64
	for sec := 0; sec <= 10; sec++ {
		cpu = append(cpu, probe.CPUTimes{At: at(float64(sec) + 0.5), Busy: busy, Total: total})
		total += 200
		if sec >= 4 && sec < 5 {
			busy += 180
		} else {
			busy += 80
		}
	}
	return samples, start, events, db, cpu
}

func TestAnalyseFleet(t *testing.T) {
	samples, start, events, db, cpu := fleetFixture()
	rep, err := analyseFleet(samples, start, events, db, cpu)
	if err != nil {
		t.Fatal(err)
	}
	rep.MaxRatio, rep.Rate, rep.Sent = 3, 10, 10
	if rep.Total.Requests != 100 || rep.Total.Failed != 1 || rep.Total.Retried != 1 {
		t.Errorf("total %+v", rep.Total)
	}
	// Steady: seconds 1-4 and 6-10 (the end is just after the last sample).
	if rep.Steady.Requests != 70 || rep.Steady.P99 != 100*time.Millisecond || rep.Steady.Failed != 0 {
		t.Errorf("steady %+v", rep.Steady)
	}
	if len(rep.Restarts) != 1 || rep.Restarts[0].Requests != 20 || rep.Restarts[0].Failed != 1 || rep.Restarts[0].P99 != 400*time.Millisecond {
		t.Fatalf("restarts %+v", rep.Restarts)
	}
	if got := strings.Join(rep.Restarts[0].Events, ","); got != "down +0.5s" {
		t.Errorf("restart events %q", got)
	}
	if rep.P99Ratio != 4 {
		t.Errorf("p99 ratio %v, want 4", rep.P99Ratio)
	}
	// The only two readings inside the restart window are 4.5 s and 5.5 s.
	if !rep.AllRestarts.DBOK || rep.AllRestarts.Questions != 500 || rep.AllRestarts.Selects != 250 {
		t.Errorf("database in the restart: %+v", rep.AllRestarts)
	}
	if !rep.Steady.DBOK || rep.Steady.Questions != 100 {
		t.Errorf("database in the steady state: %+v", rep.Steady)
	}
	if rep.AllRestarts.CPUBusy != 0.9 || rep.Steady.CPUBusy != 0.4 {
		t.Errorf("machine CPU busy: %v in the restart, %v in the steady state; want 0.9 and 0.4", rep.AllRestarts.CPUBusy, rep.Steady.CPUBusy)
	}
	m := rep.misses()
	if len(m) != 2 || !strings.Contains(m[0], "failed requests: 1 of 100") || !strings.Contains(m[1], "4.00×") {
		t.Errorf("misses %q", m)
	}
	md := rep.Markdown()
	for _, want := range []string{"| restart of node1 | 2.0 s | 20 | 1 | 1 | 400.00 ms |", "| 500 | 250 | 90% |", "**MISSED**", "5.00× (500 against 100"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestFleetWindowsRejectsUnpairedMarks(t *testing.T) {
	start := time.UnixMilli(0)
	bad := [][]fleetEvent{
		{{At: start, Name: markRestartEnd, Node: "node1"}},
		{{At: start, Name: markRestartBegin, Node: "node1"}, {At: start, Name: markRestartBegin, Node: "node2"}},
	}
	for _, evs := range bad {
		if _, _, err := fleetWindows(evs, start, start.Add(time.Second)); err == nil {
			t.Errorf("%+v accepted", evs)
		}
	}
	// A run cut short inside a restart: the window ends with the load.
	_, rs, err := fleetWindows([]fleetEvent{{At: start, Name: markRestartBegin, Node: "node1"}}, start, start.Add(time.Second))
	if err != nil || len(rs) != 1 || !rs[0].To.Equal(start.Add(time.Second)) {
		t.Errorf("restarts %+v, %v", rs, err)
	}
}

func TestWriteFleetCSV(t *testing.T) {
	samples, start, events, db, cpu := fleetFixture()
	var b bytes.Buffer
	if err := writeFleetCSV(&b, samples, start, time.Second, events, db, cpu); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 11 { // the header and 10 seconds
		t.Fatalf("%d rows:\n%q", len(rows), rows)
	}
	// Second 4: 10 requests at 400 ms, in node1's restart; the database
	// rate and the machine's CPU between the readings at 4.5 s and 5.5 s.
	if r := rows[5]; r[0] != "4.000" || r[2] != "10" || r[6] != "400.000" || r[8] != "500.000" || r[10] != "90.0" || r[11] != "restart node1" {
		t.Errorf("second 4: %q", r)
	}
	if r := rows[2]; r[11] != "steady" || r[6] != "100.000" || r[10] != "40.0" {
		t.Errorf("second 1: %q", r)
	}
}
