package requestid

import (
	"strings"
	"testing"
)

func TestGenerator(t *testing.T) {
	g := NewGenerator()
	a, b := g.New(), g.New()
	if a == b || !Valid(a) || !strings.HasPrefix(b, g.prefix) {
		t.Fatalf("ids %q %q", a, b)
	}
	if NewGenerator().prefix == g.prefix {
		t.Fatal("two generators share a prefix")
	}
}

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123": true, "": false, "a b": false, "é": false, strings.Repeat("x", MaxLen+1): false, "x\n": false,
	} {
		if Valid(id) != want {
			t.Errorf("Valid(%q) = %v", id, !want)
		}
	}
}
