package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Proc is a child process the benchmark started: a service or a baseline.
type Proc struct {
	name string
	cmd  *exec.Cmd
	log  string        // path of its output
	done chan struct{} // closed once it has exited; err is set then
	err  error
}

// StartProc starts argv with its output appended to logPath. The child
// gets SIGTERM if this process dies (Pdeathsig), so a crashed benchmark
// leaves nothing behind; stop it normally with stop.
func StartProc(name, logPath string, argv ...string) (*Proc, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	fmt.Fprintf(out, "--- %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Name is what the process was started as (for messages).
func (p *Proc) Name() string { return p.name }

// ExitErr returns why the process exited, or nil if it is running.
func (p *Proc) ExitErr() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v); its log %s ends with:\n%s", p.name, p.err, p.log, tailFile(p.log, 15))
	default:
		return nil
	}
}

// Stop sends SIGTERM and waits up to timeout, then kills. It returns an
// error if the process failed (exited non-zero other than by a signal) or
// had to be killed. Stopping a stopped process returns the same.
func (p *Proc) Stop(timeout time.Duration) error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(timeout):
			_ = p.cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("%s did not stop within %s; killed", p.name, timeout)
		}
	}
	if p.err != nil && !isSignalExit(p.err) {
		return fmt.Errorf("%s: %w; its log %s ends with:\n%s", p.name, p.err, p.log, tailFile(p.log, 15))
	}
	return nil
}

func isSignalExit(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// tailFile returns the last n lines of a file (for error messages).
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
