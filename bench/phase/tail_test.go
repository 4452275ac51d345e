package phase

import (
	"testing"
	"time"
)

func TestTailConfig(t *testing.T) {
	var c tailConfig
	c.Resolve(true)
	if c.Duration != 2*time.Second || len(c.Rates) != 2 || c.Rates[0] != 10_000 || c.Rates[1] != 4_000 {
		t.Errorf("quick defaults: %+v", c)
	}
	c.Key = 0
	if c.Validate() == nil {
		t.Error("product 0 accepted")
	}
}
