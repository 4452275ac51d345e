package phase

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // names, in run order
		wantErr string   // substring of the error
	}{
		{"all", "all", All.Names(), ""},
		{"one", "stampede", []string{"stampede"}, ""},
		{"run order whatever the order given", "cold, http,stampede", []string{"stampede", "http", "cold"}, ""},
		{"a name twice", "tail,tail", []string{"tail"}, ""},
		{"unknown name lists the valid ones", "http,warp", nil,
			`unknown phase "warp" (want all or some of stampede,http,grpc,fixed,tail,fresh,memory,cold,cachebench)`},
		{"empty", "", nil, `unknown phase ""`},
		{"all among others is not all", "all,http", nil, `unknown phase "all"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %v, %v; want an error with %q", tt.in, got.Names(), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !slices.Equal(got.Names(), tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got.Names(), tt.want)
			}
		})
	}
}

// TestRegistryOrder checks that All is in the order the phases run
// (runPhases): those that need a cold cache first, then those that need
// the stack's warmed services, then those that start their own; and that
// names are unique.
func TestRegistryOrder(t *testing.T) {
	group := func(p Phase) int {
		switch n := p.Needs(); {
		case n&NeedStack == 0:
			return 2
		case n&NeedColdCache != 0:
			return 0
		}
		return 1
	}
	seen := map[string]bool{}
	for i, p := range All {
		if seen[p.Name()] {
			t.Errorf("phase %q listed twice", p.Name())
		}
		seen[p.Name()] = true
		if i > 0 && group(All[i-1]) > group(p) {
			t.Errorf("%s runs after %s in All, but runPhases runs it before", p.Name(), All[i-1].Name())
		}
		if n := p.Needs(); n&(NeedBaselines|NeedDBOnly|NeedColdCache) != 0 && n&NeedStack == 0 {
			t.Errorf("%s needs the stack's baselines or cache but not the stack", p.Name())
		}
	}
}

func TestSelectionNeeds(t *testing.T) {
	tests := []struct {
		phases string
		want   Needs
	}{
		{"stampede", NeedStack | NeedColdCache},
		{"fixed,fresh", NeedStack},
		{"tail", NeedStack | NeedBaselines},
		{"http", NeedStack | NeedBaselines | NeedDBOnly | NeedWrk},
		{"memory,cachebench", NeedWrk},
		{"cachebench", 0},
	}
	for _, tt := range tests {
		t.Run(tt.phases, func(t *testing.T) {
			s, err := Parse(tt.phases)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Needs(); got != tt.want {
				t.Errorf("needs %05b, want %05b", got, tt.want)
			}
		})
	}
}
