package phase

import "testing"

func TestWarmFlagRE(t *testing.T) {
	for help, want := range map[string]bool{
		"  --warm  [$GINTOKI_WARM] (default \"off\")\n      what to load": true,
		"  --warm-chunk  [$GINTOKI_WARM_CHUNK]\n":                         false,
		"  --max-staleness  [$GINTOKI_MAX_STALENESS]\n":                   false,
	} {
		if got := warmFlagRE.MatchString(help); got != want {
			t.Errorf("%q: %v, want %v", help, got, want)
		}
	}
}
