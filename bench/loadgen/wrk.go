package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkScript makes every wrk request ask for a random product id in
// 1..args[1], on GET /v1/products/{id}/inventory (args[2] "path") or GET
// /cache?product_id={id} ("query"), and prints a machine-readable summary
// line at the end. Threads are seeded differently (setup runs once per
// thread, in the main Lua state).
const wrkScript = `-- written by gintoki-bench
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

local maxid, style
function init(args)
  maxid = tonumber(args[1]) or 100000
  style = args[2] or "path"
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
  local id = math.random(1, maxid)
  if style == "query" then
    return wrk.format("GET", "/cache?product_id=" .. id)
  end
  return wrk.format("GET", "/v1/products/" .. id .. "/inventory")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('GINTOKI_WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
`

// WriteWrkScript writes wrkScript into dir and returns its path.
func WriteWrkScript(dir string) (string, error) {
	path := filepath.Join(dir, "random-ids.lua")
	if err := os.WriteFile(path, []byte(wrkScript), 0o644); err != nil {
		return "", fmt.Errorf("write wrk script: %w", err)
	}
	return path, nil
}

// WrkRun is one closed-loop wrk run.
type WrkRun struct {
	URL      string // base URL, http://host:port
	Script   string // path of wrkScript
	Threads  int
	Conns    int
	Duration time.Duration
	MaxID    int
	Style    string // "path" or "query"
}

// WrkResult is what one wrk run measured.
type WrkResult struct {
	Requests      int64
	Duration      time.Duration
	RPS           float64
	P50, P90, P99 time.Duration
	Max           time.Duration
	Errors        int64   // socket errors, timeouts and non-2xx/3xx responses
	GenCores      float64 // CPU wrk itself used, in cores
}

// RunWrk runs wrk with --latency and the script, and parses the script's
// summary line.
func RunWrk(ctx context.Context, r WrkRun) (WrkResult, error) {
	// wrk takes whole seconds.
	secs := max(1, int(r.Duration.Round(time.Second)/time.Second))
	args := []string{"-t" + strconv.Itoa(r.Threads), "-c" + strconv.Itoa(r.Conns), "-d" + strconv.Itoa(secs) + "s",
		"--timeout", "2s", "--latency", "-s", r.Script, r.URL, "--", strconv.Itoa(r.MaxID), r.Style}
	cmd := exec.CommandContext(ctx, "wrk", args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return WrkResult{}, fmt.Errorf("wrk %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	wall := time.Since(start)
	res, err := parseWrk(out.String())
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk %s: %w; output:\n%s", strings.Join(args, " "), err, out.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && wall > 0 {
		res.GenCores = time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds() / wall.Seconds()
	}
	return res, nil
}

// parseWrk finds the GINTOKI_WRK line of wrk's output.
func parseWrk(out string) (WrkResult, error) {
	for line := range strings.SplitSeq(out, "\n") {
		js, ok := strings.CutPrefix(strings.TrimSpace(line), "GINTOKI_WRK ")
		if !ok {
			continue
		}
		var s struct {
			Requests   int64 `json:"requests"`
			DurationUS int64 `json:"duration_us"`
			P50US      int64 `json:"p50_us"`
			P90US      int64 `json:"p90_us"`
			P99US      int64 `json:"p99_us"`
			MaxUS      int64 `json:"max_us"`
			Connect    int64 `json:"connect"`
			Read       int64 `json:"read"`
			Write      int64 `json:"write"`
			Status     int64 `json:"status"`
			Timeout    int64 `json:"timeout"`
		}
		if err := json.Unmarshal([]byte(js), &s); err != nil {
			return WrkResult{}, fmt.Errorf("summary line: %w", err)
		}
		if s.DurationUS <= 0 {
			return WrkResult{}, errors.New("summary line: no duration")
		}
		d := time.Duration(s.DurationUS) * time.Microsecond
		return WrkResult{
			Requests: s.Requests, Duration: d, RPS: float64(s.Requests) / d.Seconds(),
			P50: us(s.P50US), P90: us(s.P90US), P99: us(s.P99US), Max: us(s.MaxUS),
			Errors: s.Connect + s.Read + s.Write + s.Timeout + s.Status,
		}, nil
	}
	return WrkResult{}, errors.New("no GINTOKI_WRK summary line (is the Lua script loaded?)")
}

func us(n int64) time.Duration { return time.Duration(n) * time.Microsecond }
