package probe

import (
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	stat := "1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1"
	d, err := parseStatCPU(stat)
	if err != nil || d != 3*time.Second {
		t.Errorf("got %v, %v", d, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Error("no error")
	}
	status := []byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t    1024 kB\n")
	if n, err := statusKB(status, "VmRSS:"); err != nil || n != 1<<20 {
		t.Errorf("VmRSS %v %v", n, err)
	}
	if _, err := statusKB(status, "VmSwap:"); err == nil {
		t.Error("no error for a missing field")
	}
}

func TestParseCPULine(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	ct, err := parseCPULine("cpu  100 10 50 800 20 5 5 10 40 0\ncpu0 1 2 3 4\n")
	if err != nil || ct.Busy != 180 || ct.Total != 1000 {
		t.Errorf("got %+v, %v; want busy 180 of 1000", ct, err)
	}
	later := CPUTimes{Busy: ct.Busy + 75, Total: ct.Total + 100}
	if s := BusyShare(ct, later); s != 0.75 {
		t.Errorf("busy share %v, want 0.75", s)
	}
	if s := BusyShare(ct, ct); s != -1 {
		t.Errorf("busy share over no time %v, want -1", s)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5"} {
		if _, err := parseCPULine(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
