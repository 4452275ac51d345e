package cache

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// indexedCopier is a ManyEntryReader that keeps a copy of each entry.
type indexedCopier struct{ got map[int][]byte }

func (r *indexedCopier) ReadEntryAt(i int, e []byte) {
	if _, dup := r.got[i]; dup {
		panic(fmt.Sprintf("entry %d read twice", i))
	}
	r.got[i] = bytes.Clone(e)
}

// ReadMany hands over the same entries as Read, each once, for batches
// below and above what it serves from the stack, while writers change the
// cache: run with -race.
func TestReadMany(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	value := func(id inventory.ProductID, gen int) []byte {
		return bytes.Repeat([]byte{byte(id), byte(gen)}, 20+int(id)%90)
	}
	const n = 3000 // more than the rings hold: some are evicted
	for id := inventory.ProductID(1); id <= n; id++ {
		if err := c.Set(id, value(id, 0)); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for gen := 1; ; gen++ {
			select {
			case <-stop:
				return
			default:
			}
			id := inventory.ProductID(gen%n + 1)
			_ = c.Set(id, value(id, gen))
		}
	})
	rng := rand.New(rand.NewPCG(3, 5))
	for _, size := range []int{1, 7, manyOnStack, manyOnStack + 1, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			perm := rng.Perm(n + 500) // ids past n were never stored
			ids := make([]inventory.ProductID, size)
			for i := range ids {
				ids[i] = inventory.ProductID(perm[i] + 1)
			}
			r := &indexedCopier{got: map[int][]byte{}}
			c.ReadMany(ids, r)
			for i, id := range ids {
				e, ok := r.got[i]
				switch {
				case id > n && ok:
					t.Fatalf("ids[%d] = %d was never stored, but read", i, id)
				case !ok:
					continue // never stored, or evicted
				case len(e) != 2*(20+int(id)%90) || e[0] != byte(id):
					t.Fatalf("ids[%d] = %d: read %d bytes of another entry", i, id, len(e))
				}
			}
		})
	}
	close(stop)
	wg.Wait()
	// Quiet again: ReadMany and Read agree.
	ids := make([]inventory.ProductID, 0, n)
	for id := inventory.ProductID(1); id <= n; id++ {
		ids = append(ids, id)
	}
	r := &indexedCopier{got: map[int][]byte{}}
	c.ReadMany(ids, r)
	var one entryCopier
	for i, id := range ids {
		found := c.Read(id, &one)
		if e, ok := r.got[i]; ok != found || (ok && !bytes.Equal(e, one.got)) {
			t.Fatalf("id %d: ReadMany found %v, Read found %v, or their bytes differ", id, ok, found)
		}
	}
	if len(r.got) == 0 {
		t.Fatal("nothing read")
	}
}
