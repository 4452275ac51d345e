package loadgen

import (
	"math/rand/v2"
	"testing"
)

func TestDistinctIDs(t *testing.T) {
	rng := newTestRand()
	seen := map[int64]struct{}{}
	ids := distinctIDs(rng, nil, seen, 100, 100)
	set := map[int64]bool{}
	for _, id := range ids {
		if id < 1 || id > 100 || set[id] {
			t.Fatalf("bad or repeated id %d", id)
		}
		set[id] = true
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
