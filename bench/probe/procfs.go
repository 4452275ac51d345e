package probe

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcRSS returns a process's resident set size (VmRSS) and its peak
// (VmHWM), in bytes.
func ProcRSS(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read RSS: %w", err)
	}
	rss, err = statusKB(b, "VmRSS:")
	if err != nil {
		return 0, 0, err
	}
	hwm, err = statusKB(b, "VmHWM:")
	return rss, hwm, err
}

func statusKB(status []byte, field string) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected %s line %q", field, line)
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", field, err)
			}
			return n << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// ProcCPU returns the user+system CPU time a process has used.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line; the command name (field 2) may hold spaces, so
// fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// CPUMeter measures the CPU a process uses over an interval, in cores.
type CPUMeter struct {
	pid   int
	start time.Time
	cpu0  time.Duration
}

// StartCPU starts measuring pid's CPU.
func StartCPU(pid int) CPUMeter {
	c, _ := ProcCPU(pid)
	return CPUMeter{pid: pid, start: time.Now(), cpu0: c}
}

// Cores returns the CPU used since StartCPU divided by the wall time (0 if
// the process cannot be read).
func (m CPUMeter) Cores() float64 {
	c, err := ProcCPU(m.pid)
	if err != nil {
		return 0
	}
	return (c - m.cpu0).Seconds() / time.Since(m.start).Seconds()
}
