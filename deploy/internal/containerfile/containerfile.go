// Package containerfile reads the instructions of a Containerfile
// (Dockerfile syntax): enough of it for the deploy tests to check what the
// image is built from, which user it runs as and what it runs.
package containerfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Instruction is one instruction: its keyword in upper case and its
// arguments as written (line continuations joined).
type Instruction struct {
	Line int
	Cmd  string
	Args string
}

// Exec returns the arguments of an exec-form instruction (ENTRYPOINT
// ["/bin", "arg"]), or an error for the shell form.
func (in Instruction) Exec() ([]string, error) {
	var args []string
	if err := json.Unmarshal([]byte(in.Args), &args); err != nil {
		return nil, fmt.Errorf("line %d: %s is not in exec form (a JSON array): %w", in.Line, in.Cmd, err)
	}
	return args, nil
}

// known are the instructions of the Dockerfile reference.
var known = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true, "EXPOSE": true,
	"FROM": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true, "ONBUILD": true, "RUN": true,
	"SHELL": true, "STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true,
}

// Parse reads the instructions of r. Comments and blank lines are
// skipped; an unknown instruction is an error.
func Parse(r io.Reader) ([]Instruction, error) {
	var (
		out     []Instruction
		pending strings.Builder
		start   int
	)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		text := pending.String()
		pending.Reset()
		cmd, args, _ := strings.Cut(text, " ")
		cmd = strings.ToUpper(cmd)
		if !known[cmd] {
			return nil, fmt.Errorf("line %d: unknown instruction %q", start, cmd)
		}
		out = append(out, Instruction{Line: start, Cmd: cmd, Args: strings.TrimSpace(args)})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation at the end of the file", start)
	}
	return out, nil
}
