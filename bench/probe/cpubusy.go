package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPUTimes is a reading of the machine's CPU time counters (/proc/stat's
// "cpu" line, in clock ticks summed over every core): how much of it was
// busy, and all of it.
type CPUTimes struct {
	At          time.Time
	Busy, Total float64
}

// ReadCPUTimes reads the machine's CPU time counters. It works on Linux
// only.
func ReadCPUTimes() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, fmt.Errorf("read CPU times: %w", err)
	}
	ct, err := parseCPULine(string(b))
	ct.At = time.Now()
	return ct, err
}

// parseCPULine reads /proc/stat's first line, "cpu user nice system idle
// iowait irq softirq steal guest guest_nice": busy is everything but idle
// and iowait. Guest time is already counted in user and nice, so it is
// left out of the total.
func parseCPULine(stat string) (CPUTimes, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return CPUTimes{}, errors.New("/proc/stat: no cpu line first")
	}
	var ct CPUTimes
	for i, s := range f[1:min(len(f), 9)] { // user … steal
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return CPUTimes{}, fmt.Errorf("/proc/stat: %w", err)
		}
		ct.Total += n
		if i != 3 && i != 4 { // idle, iowait
			ct.Busy += n
		}
	}
	return ct, nil
}

// BusyShare is the share of the machine's CPU time that was busy between
// two readings (0 to 1), or -1 if none passed.
func BusyShare(from, to CPUTimes) float64 {
	if to.Total <= from.Total {
		return -1
	}
	return (to.Busy - from.Busy) / (to.Total - from.Total)
}

// SampleCPUTimes reads the machine's CPU time counters every interval
// until ctx ends. It returns the readings and the first error, if any
// reading failed.
func SampleCPUTimes(ctx context.Context, interval time.Duration) ([]CPUTimes, error) {
	return sampleEvery(ctx, interval, ReadCPUTimes)
}
