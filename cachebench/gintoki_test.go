package cachebench

import (
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/inventory"
)

// --- gintoki's own cache --------------------------------------------------

// gintokiCache is package cache, the one the service runs: 256 shards,
// each a byte ring and a map from id to the entry's place in it; neither
// holds a pointer, so the GC never scans entries.
type gintokiCache struct{ c *cache.Cache }

func openGintoki(w *workload) (cacheUnderTest, error) {
	c, err := cache.New(w.budgetBytes())
	if err != nil {
		return nil, err
	}
	return gintokiCache{c}, nil
}

func (g gintokiCache) close() {}

func (g gintokiCache) newClient() cacheClient {
	return &gintokiClient{c: g.c, buf: make([]byte, 0, maxValue)}
}

type gintokiClient struct {
	c   *cache.Cache
	buf []byte
}

func (cl *gintokiClient) get(id int64) ([]byte, bool) {
	var ok bool
	cl.buf, ok = cl.c.Get(cl.buf[:0], inventory.ProductID(id))
	return cl.buf, ok
}

func (cl *gintokiClient) set(id int64, value []byte) error {
	return cl.c.Set(inventory.ProductID(id), value)
}
