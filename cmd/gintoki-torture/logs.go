package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
)

// allowed is an error-level log line that a fault explains. Every entry
// says why it is expected; a line it does not match is a violation.
type allowed struct {
	Process string         // process name prefix: relay, node, broker, db
	Line    *regexp.Regexp // matched against the whole line
	// Faults: the line must be logged while one of these faults lasts or
	// within logGrace after it is healed (by the line's own time stamp,
	// when it has one). None: always allowed.
	Faults []faultKind
	Why    string
}

// logGrace is how long after a fault is healed a line it explains may
// still come (reconnection backoffs end within it).
const logGrace = 15 * time.Second

// allowList is every error-level line a run may log, with its reason.
var allowList = []allowed{
	{Process: "relay", Line: regexp.MustCompile(`"level":"ERROR","msg":"io.ReadFull\(header\) failed\. err EOF: connection was bad","component":"binlog-syncer"`),
		Faults: []faultKind{faultDBStop},
		Why:    "go-mysql's binlog syncer logs its lost connection at error level when the database shuts down; the relay reconnects (a warning of its own follows)"},
	{Process: "relay", Line: regexp.MustCompile(`"level":"ERROR","msg":"leader lock: (not confirmed within the lease|held by another session now)"`),
		Faults: []faultKind{faultDBStop, faultRelayPause},
		Why: "the relay's leader lock lives in a database session: with the database down, or the relay paused, longer than the lease, " +
			"it cannot be confirmed (or the session is gone), and the relay stops publishing until it holds the lock again"},
	{Process: "relay", Line: regexp.MustCompile(`"level":"ERROR","msg":"leader lock lost: stopped publishing; standing by"`),
		Faults: []faultKind{faultDBStop, faultRelayPause},
		Why:    "follows the line above: the relay stands by and takes the lock again once the database answers"},
}

// logWindow is the wall-clock span in which a fault explains log lines.
type logWindow struct {
	Kind     faultKind
	From, To time.Time
}

func logWindows(t0 time.Time, faults []fault) []logWindow {
	var ws []logWindow
	for _, f := range faults {
		ws = append(ws, logWindow{f.Kind, t0.Add(f.Start), t0.Add(f.End + logGrace)})
	}
	return ws
}

var timeRE = regexp.MustCompile(`"time":"([^"]+)"|^time=(\S+)`)

// lineTime is the time stamp of a JSON or text slog line (zero if none).
func lineTime(line string) time.Time {
	m := timeRE.FindStringSubmatch(line)
	if m == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, m[1]+m[2])
	if err != nil {
		return time.Time{}
	}
	return t
}

// errorLine reports whether line is error level, or part of a panic or a
// fatal runtime error, in any of the processes' log formats (JSON and text
// slog, MariaDB's error log, Go's crash output).
func errorLine(line string) bool {
	return strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, "level=ERROR") ||
		strings.Contains(line, "[ERROR]") || strings.HasPrefix(line, "panic:") ||
		strings.HasPrefix(line, "fatal error:") || strings.Contains(line, `"panic"`)
}

// scanLogs returns a violation per log file and unexplained kind of error
// line (first occurrence and count), and the explained lines counted by
// reason.
func scanLogs(files map[string]string, windows []logWindow) ([]violation, map[string]int, error) {
	var bad []violation
	explained := map[string]int{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := os.Open(files[name])
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("scan logs: %w", err)
		}
		unexplained := map[string][]string{} // by message shape: lines
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Text()
			if !errorLine(line) {
				continue
			}
			if why, ok := explain(name, line, windows); ok {
				explained[why]++
				continue
			}
			unexplained[msgOf(line)] = append(unexplained[msgOf(line)], line)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("scan %s: %w", files[name], err)
		}
		for _, lines := range unexplained {
			bad = append(bad, violation{Kind: "log", Node: -1,
				Msg: fmt.Sprintf("%s logged %d unexplained error line(s) like: %.600s", name, len(lines), lines[0])})
		}
	}
	return bad, explained, nil
}

func explain(process, line string, windows []logWindow) (string, bool) {
	at := lineTime(line)
	for _, a := range allowList {
		if !strings.HasPrefix(process, a.Process) || !a.Line.MatchString(line) {
			continue
		}
		ok := len(a.Faults) == 0
		for _, k := range a.Faults {
			for _, w := range windows {
				ok = ok || w.Kind == k && (at.IsZero() || !at.Before(w.From) && !at.After(w.To))
			}
		}
		if ok {
			return process + ": " + a.Why, true
		}
	}
	return "", false
}

var msgRE = regexp.MustCompile(`"msg":"([^"]*)"|msg="?([^"=]*)"?`)

// msgOf groups error lines by their message.
func msgOf(line string) string {
	if m := msgRE.FindStringSubmatch(line); m != nil {
		return m[1] + m[2]
	}
	if len(line) > 60 {
		return line[:60]
	}
	return line
}
