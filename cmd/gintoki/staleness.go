package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/mysql"
)

// defaultMaxStaleness is --max-staleness's default.
const defaultMaxStaleness = 5 * time.Second

// healthInterval is how often gRPC health is updated from readiness. The
// stale mark does not depend on it: it is judged on every read.
const healthInterval = 250 * time.Millisecond

// idleHorizonAge is how old the source horizon gets while the database is
// idle with the relay's defaults: MariaDB's heartbeat after each idle
// second, the relay's heartbeat every second, and a probe interval.
const idleHorizonAge = 2300 * time.Millisecond

// probeInterval derives how often the consumer probes the broker from the
// bound: the horizon trails the stream by up to one interval, so it must be
// a small part of the bound, without probing more than 20 times a second.
func probeInterval(bound time.Duration) time.Duration {
	return min(max(bound/20, 50*time.Millisecond), time.Second)
}

// resolveDeprecated maps the flags --max-staleness replaced onto it and
// returns a warning for each one given. given holds the flags set on the
// command line or through the environment.
//
// They are kept as deprecated aliases rather than removed because
// deployments set them through the environment (GINTOKI_MAX_LAG): a node
// that refuses to start after an upgrade takes the cache down, while a
// warning costs nothing. --max-lag meant "the staleness bound" and maps
// exactly; --heartbeat-timeout 0 meant "the source sends no heartbeats";
// any other --heartbeat-timeout has no equivalent, since the silence
// allowed now follows from the bound, and is ignored.
func (c *serveConfig) resolveDeprecated(given map[string]bool) (warnings []string, err error) {
	if given["max-lag"] {
		if given["max-staleness"] {
			return nil, errors.New("--max-lag is a deprecated alias of --max-staleness: give only --max-staleness")
		}
		c.MaxStaleness = c.MaxLag
		warnings = append(warnings, fmt.Sprintf("--max-lag (GINTOKI_MAX_LAG) is deprecated: use --max-staleness %s, "+
			"which now also covers a silent source", c.MaxLag))
	}
	if given["heartbeat-timeout"] {
		switch {
		case c.HeartbeatTimeout < 0:
			return nil, errors.New("--heartbeat-timeout must not be negative (and is deprecated)")
		case c.HeartbeatTimeout == 0:
			if given["heartbeats"] && c.Heartbeats {
				return nil, errors.New("--heartbeat-timeout 0 (deprecated) means --heartbeats=false, but --heartbeats=true is given")
			}
			c.Heartbeats = false
			warnings = append(warnings, "--heartbeat-timeout 0 (GINTOKI_HEARTBEAT_TIMEOUT) is deprecated: use --heartbeats=false")
		default:
			warnings = append(warnings, fmt.Sprintf("--heartbeat-timeout (GINTOKI_HEARTBEAT_TIMEOUT) is deprecated and ignored: "+
				"answers are marked stale when the source has been silent for as long as --max-staleness (%s) allows", c.MaxStaleness))
		}
	}
	return warnings, nil
}

// boundWarnings warns of a bound the source's heartbeats cannot keep
// inside while the database is idle.
func (c *serveConfig) boundWarnings() []string {
	if c.NoCache || !c.Heartbeats || c.MaxStaleness > idleHorizonAge+500*time.Millisecond {
		return nil
	}
	return []string{fmt.Sprintf("--max-staleness %s is close to how old the source's heartbeats get while the database is idle "+
		"(about %s with the relay's defaults): answers may be marked stale while it is", c.MaxStaleness, idleHorizonAge)}
}

// newFreshness builds the readiness and staleness policy from the parts.
func newFreshness(cfg serveConfig, svc *app.Service, store *mysql.Store, consumer *kafka.Consumer, feed *app.Feed, warm *app.WarmProgress, log *slog.Logger) (*app.Freshness, error) {
	parts := app.FreshnessParts{Service: svc, Database: store, Warm: warm}
	if consumer != nil { // a nil *kafka.Consumer must not become a non-nil interface
		parts.Stream, parts.Clock = consumer, feed
	}
	return app.NewFreshness(app.FreshnessConfig{MaxStaleness: cfg.MaxStaleness, Heartbeats: cfg.Heartbeats}, parts, log)
}
