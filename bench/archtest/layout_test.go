package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const (
	harness = "github.com/gintoki/gintoki/bench/"
	service = "github.com/gintoki/gintoki/"
)

// imports lists, per package of the harness, the packages of the harness
// it may import and, prefixed with "service:", those of the service.
// Third-party packages are free, but for stdlibOnly.
var imports = map[string][]string{
	"stats":             {},
	"chart":             {},
	"probe":             {"stats", "service:gen/inventory/v1", "service:internal/grpcraw"},
	"loadgen":           {"stats", "probe", "service:gen/inventory/v1"},
	"stack":             {"stats", "service:gen/inventory/v1", "service:internal/grpcraw"},
	"report":            {"stats", "chart", "probe", "loadgen"},
	"fleet":             {"stats", "chart", "probe", "loadgen", "stack"},
	"phase":             {"stats", "probe", "loadgen", "stack", "report"},
	"cmd/gintoki-bench": {"phase", "fleet", "stack", "service:internal/flagenv"},
	"archtest":          {},
}

// stdlibOnly may import nothing outside the standard library.
var stdlibOnly = []string{"stats", "archtest"}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", harness+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(fields[0], harness)
		rules, ok := imports[pkg]
		if !ok {
			t.Errorf("package %s has no rule: add one to imports", pkg)
			continue
		}
		seen[pkg] = true
		for _, imp := range fields[1:] {
			var own string
			if rest, ok := strings.CutPrefix(imp, harness); ok {
				own = rest
			} else if rest, ok := strings.CutPrefix(imp, service); ok {
				own = "service:" + rest
			}
			switch {
			case own != "" && !slices.Contains(rules, own):
				t.Errorf("%s imports %s: not allowed (allowed: %v)", pkg, own, rules)
			case own == "" && slices.Contains(stdlibOnly, pkg) && strings.Contains(strings.Split(imp, "/")[0], "."):
				t.Errorf("%s imports %s: it may use the standard library only", pkg, imp)
			}
		}
	}
	for pkg := range imports {
		if !seen[pkg] {
			t.Errorf("package %s not found: update the rules", pkg)
		}
	}
}
