package loadgen

import (
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	out := `Running 2s test @ http://127.0.0.1:18080
  2 threads and 64 connections
  Latency Distribution
     50%  0.96ms
  120064 requests in 2.00s, 30.00MB read
Requests/sec:  60032.00
GINTOKI_WRK {"requests":120064,"duration_us":2000000,"p50_us":960,"p90_us":2000,"p99_us":10010,"max_us":20000,"connect":0,"read":1,"write":0,"status":2,"timeout":3}
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 120064 || r.RPS != 60032 || r.P50 != 960*time.Microsecond || r.P99 != 10010*time.Microsecond || r.Errors != 6 {
		t.Errorf("got %+v", r)
	}
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Error("no error without the summary line")
	}
}
