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
