// Package gintokibin builds the project's binaries for the deploy tests
// and reads the flags a subcommand accepts from its --help.
package gintokibin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"testing"
)

// RepoRoot is the repository's root directory (the service's module).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Build builds bin names (e.g. "gintoki", "gintoki-devbroker") from
// ./cmd/... of the repository once per test process, into a directory
// removed by cleanup, and returns that directory.
//
// $GINTOKI_BIN_DIR, when set, names a directory that already holds them.
func Build(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("GINTOKI_BIN_DIR"); dir != "" {
		return dir
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gintoki-deploy-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", buildDir+string(filepath.Separator), "./cmd/gintoki", "./cmd/gintoki-devbroker")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildDir
}

// Cleanup removes what Build built; call it from TestMain after m.Run.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// helpFlag matches a flag line of `gintoki <cmd> --help`:
// "  --cache-bytes  [$GINTOKI_CACHE_BYTES] (default ...)".
var helpFlag = regexp.MustCompile(`(?m)^  --([a-z0-9-]+)  \[\$(GINTOKI_[A-Z0-9_]+)\]`)

// Flags runs `bin subcommand --help` and returns the flags it lists, by
// name, each with its environment variable.
func Flags(tb testing.TB, bin, subcommand string) map[string]string {
	tb.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, subcommand, "--help")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s --help: %v\n%s", bin, subcommand, err, out.Bytes())
	}
	flags := map[string]string{}
	for _, m := range helpFlag.FindAllStringSubmatch(out.String(), -1) {
		flags[m[1]] = m[2]
	}
	if len(flags) < 5 {
		tb.Fatalf("%s %s --help lists %d flags; is its format still \"  --name  [$ENV]\"?\n%s", bin, subcommand, len(flags), out.Bytes())
	}
	return flags
}
