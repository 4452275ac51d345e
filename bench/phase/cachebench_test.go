package phase

import "testing"

func TestParseGoBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkGet/freecache-2         	 1470325	       765.4 ns/op	       0 B/op	       0 allocs/op
BenchmarkGet/bigcache-2          	 1000000	      1578 ns/op	     321 B/op	       2 allocs/op
BenchmarkGet/freecache-2         	 1470325	       700.0 ns/op	       0 B/op	       0 allocs/op
PASS
`)
	rows := parseGoBench(out)
	if len(rows) != 2 || rows[0].Name != "BenchmarkGet/freecache-2" || len(rows[0].NsOp) != 2 || rows[1].BOp[0] != 321 {
		t.Errorf("got %+v", rows)
	}
}
