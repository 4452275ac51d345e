package phase

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/report"
)

// cacheBenchPhase runs go test -bench on the cache benchmark package.
func (b *Env) cacheBenchPhase(ctx context.Context) *report.CacheBench {
	args := []string{"test", b.cfg.CacheBench, "-bench", ".", "-benchmem", "-run", "XXX", "-count", "3"}
	if b.cfg.Quick {
		args = []string{"test", b.cfg.CacheBench, "-bench", ".", "-benchmem", "-run", "XXX", "-count", "1", "-benchtime", "200ms"}
	}
	rep := &report.CacheBench{Command: "go " + strings.Join(args, " ")}
	b.logf("cache library comparison: %s", rep.Command)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		rep.Err = fmt.Errorf("%s: %w\n%s", rep.Command, err, tail(out, 20))
		return rep
	}
	rep.Rows = parseGoBench(out)
	if len(rep.Rows) == 0 {
		rep.Err = fmt.Errorf("%s: no benchmark results\n%s", rep.Command, tail(out, 20))
	}
	return rep
}

// parseGoBench reads `go test -bench -benchmem` output, grouping the runs
// of each benchmark in order of first appearance.
func parseGoBench(out []byte) []report.CacheBenchRow {
	var rows []report.CacheBenchRow
	index := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		i, ok := index[f[0]]
		if !ok {
			i = len(rows)
			index[f[0]] = i
			rows = append(rows, report.CacheBenchRow{Name: f[0]})
		}
		for j := 2; j+1 < len(f); j += 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				continue
			}
			switch f[j+1] {
			case "ns/op":
				rows[i].NsOp = append(rows[i].NsOp, v)
			case "B/op":
				rows[i].BOp = append(rows[i].BOp, v)
			case "allocs/op":
				rows[i].Allocs = append(rows[i].Allocs, v)
			}
		}
	}
	return rows
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
