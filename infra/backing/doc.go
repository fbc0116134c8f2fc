// Package backing starts the backing services of the local Tidings stack:
// an embedded Kafka broker (kfake), a private PostgreSQL and Redis built from
// the machine's server binaries, and a real MinIO server. (SMTP comes from
// the sibling package mailcatcher.)
//
// Every Start* function takes a context (bounding start-up only), a data
// directory whose contents survive restarts, the address or ports to listen
// on (always loopback), and a Progress callback for the user-visible lines
// printed while the stack comes up. Each returns a running value with its
// connection details and a Stop(ctx) method. If a service does not become
// ready, its child process is killed and the error carries the last lines
// of the child's log.
package backing

// Progress receives short, user-visible progress lines ("postgres: initdb
// (first run)…"). A nil Progress discards them.
type Progress func(msg string)

func (p Progress) say(msg string) {
	if p != nil {
		p(msg)
	}
}
