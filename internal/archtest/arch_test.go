package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gintoki/gintoki/"

// allowed lists, per package, the project packages it may import. Packages
// not listed (cmd/..., cachebench) are free; every package listed must
// exist.
var allowed = map[string][]string{
	"inventory": {},
	"app":       {"inventory"},
	"relay":     {"inventory"},
	"requestid": {},
	"cache":     {"app", "inventory"},
	"mysql":     {"app", "inventory"},
	"binlog":    {"relay", "inventory"},
	"debezium":  {"app", "relay", "inventory"},
	"kafka":     {"app", "relay", "inventory"},
	"grpcapi":   {"app", "inventory", "gen/inventory/v1", "requestid", "internal/grpcraw", "internal/reqlatency"},
	"httpapi":   {"app", "inventory", "requestid", "internal/reqlatency"},
	// The Prometheus export reads the counters of the use cases and of
	// the adapters that keep some; only the commands import it.
	"promexport": {"app", "cache", "kafka", "relay", "inventory"},
	// Small pieces the adapters and commands share: they import no project
	// package, so using one never makes an adapter depend on another.
	"internal/flagenv":    {},
	"internal/grpcraw":    {},
	"internal/reqlatency": {},
	"tlsconfig":           {},
	"schema":              {},
	"gen/inventory/v1":    {},
	// Test helpers: they never import production packages.
	"internal/certtest":    {},
	"internal/kafkatest":   {"internal/certtest"},
	"internal/mariadbtest": {},
	"internal/proctest":    {},
}

// stdlibOnly are packages that may import nothing outside the standard
// library (besides the project packages allowed above).
var stdlibOnly = []string{"inventory", "app", "relay", "requestid", "internal/flagenv", "tlsconfig", "schema"}

func TestDependencyDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := map[string]bool{}
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, module)
		rules, ok := allowed[name]
		if !ok {
			continue
		}
		seen[name] = true
		for _, imp := range p.Imports {
			if own, isOwn := strings.CutPrefix(imp, module); isOwn {
				if !slices.Contains(rules, own) {
					t.Errorf("%s imports %s: not allowed (allowed: %v)", name, own, rules)
				}
				continue
			}
			if slices.Contains(stdlibOnly, name) && strings.Contains(strings.Split(imp, "/")[0], ".") {
				t.Errorf("%s imports %s: it may use the standard library only", name, imp)
			}
		}
	}
	for name := range allowed {
		if !seen[name] {
			t.Errorf("package %s not found: update the rules", name)
		}
	}
}
