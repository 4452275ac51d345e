package container

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gintoki/gintoki/deploy/internal/containerfile"
	"github.com/gintoki/gintoki/deploy/internal/gintokibin"
)

func parse(t *testing.T) []containerfile.Instruction {
	t.Helper()
	f, err := os.Open("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ins, err := containerfile.Parse(f)
	if err != nil {
		t.Fatalf("Containerfile: %v", err)
	}
	return ins
}

func only(t *testing.T, ins []containerfile.Instruction, cmd string) containerfile.Instruction {
	t.Helper()
	var found []containerfile.Instruction
	for _, in := range ins {
		if in.Cmd == cmd {
			found = append(found, in)
		}
	}
	if len(found) != 1 {
		t.Fatalf("Containerfile has %d %s instructions, want 1", len(found), cmd)
	}
	return found[0]
}

func TestContainerfile(t *testing.T) {
	ins := parse(t)

	// Nothing to pull: an empty base, so the image builds without a
	// registry, and holds nothing but what is copied in.
	if from := only(t, ins, "FROM"); from.Args != "scratch" {
		t.Errorf("FROM %s, want scratch", from.Args)
	}
	for _, in := range ins {
		if in.Cmd == "RUN" || in.Cmd == "ADD" {
			t.Errorf("line %d: %s needs a shell or a download; the base is empty", in.Line, in.Cmd)
		}
	}

	// Non-root, numerically (scratch has no /etc/passwd).
	user := only(t, ins, "USER").Args
	if !regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`).MatchString(user) {
		t.Errorf("USER %q, want a numeric non-root uid:gid", user)
	}

	// It runs the binary it copies, which scripts/image.sh puts in the
	// build context.
	entry, err := only(t, ins, "ENTRYPOINT").Exec()
	if err != nil {
		t.Fatal(err)
	}
	copied := map[string]string{}
	for _, in := range ins {
		if in.Cmd == "COPY" {
			f := strings.Fields(in.Args)
			copied[f[len(f)-1]] = f[0]
		}
	}
	if len(entry) != 1 || copied[entry[0]] == "" {
		t.Errorf("ENTRYPOINT %v does not run a copied binary (copied: %v)", entry, copied)
	}
	script, err := os.ReadFile(filepath.Join(gintokibin.RepoRoot(), "scripts", "image.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for dst, src := range copied {
		if !strings.Contains(string(script), `"$ctx/`+src+`"`) && !strings.Contains(string(script), `"$ctx/"`) {
			t.Errorf("COPY %s %s: scripts/image.sh does not put %s in the build context", src, dst, src)
		}
	}
	if cmd, err := only(t, ins, "CMD").Exec(); err != nil || !slices.Equal(cmd, []string{"serve"}) {
		t.Errorf("CMD %v (%v), want [serve]", cmd, err)
	}
	for _, port := range []string{"8080", "9090", "9091"} {
		if !slices.Contains(strings.Fields(only(t, ins, "EXPOSE").Args), port) {
			t.Errorf("EXPOSE lacks %s", port)
		}
	}
}

// scripts/image.sh builds the binary without cgo: then the Go toolchain
// links it statically, as an empty base needs (no dynamic loader, no
// libc). The script's own run of the image is the proof that it starts.
func TestImageScriptBuildsStatically(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(gintokibin.RepoRoot(), "scripts", "image.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^CGO_ENABLED=0 go build .*-o "\$ctx/gintoki" \./cmd/gintoki$`).Match(script) {
		t.Error("scripts/image.sh does not build ./cmd/gintoki with CGO_ENABLED=0 into the build context")
	}
}
