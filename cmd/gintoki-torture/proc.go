package main

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is one child process that the run starts, kills, pauses and
// restarts: always the same command line, its output appended to one log
// file across restarts.
type proc struct {
	name string
	args []string
	env  []string
	log  string // file receiving stdout and stderr

	mu     sync.Mutex    // protects cmd and done
	cmd    *exec.Cmd     // the running incarnation, nil when down
	done   chan struct{} // closed when cmd has exited
	starts int           // incarnations started so far
}

// start starts a new incarnation. The child dies with this process
// (Pdeathsig) so an interrupted run leaves nothing behind.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s already running", p.name)
	}
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	out.Close() // the child has its own descriptor
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	p.starts++
	return nil
}

// signal sends sig to the running incarnation.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s not running", p.name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	return nil
}

// alive reports whether an incarnation runs (started and not exited).
func (p *proc) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends sig (SIGKILL or SIGTERM), waits up to timeout for the exit
// (then kills), and marks the process down. A paused process is resumed
// first so that it can act on SIGTERM.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}
	var err error
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		err = fmt.Errorf("%s did not exit within %s of %s; killed", p.name, timeout, sig)
	}
	p.mu.Lock()
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	return err
}

// exited returns the channel closed when the running incarnation exits
// (nil when down).
func (p *proc) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// waitFor polls cond every 20 ms until it holds, the process exits, or
// timeout passes.
func (p *proc) waitFor(timeout time.Duration, what string, cond func() error) error {
	deadline := time.Now().Add(timeout)
	done := p.exited()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited while waiting for %s (log %s)", p.name, what, p.log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %s within %s: %w", p.name, what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
