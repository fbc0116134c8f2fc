// Command tidings runs Tidings on one machine.
//
//	tidings up                 run the whole system until Ctrl-C
//	tidings exec -- CMD ARGS   run CMD against a fresh, private stack (tests)
//	tidings dlq list|replay    inspect and replay dead-lettered events
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	repo, err := stack.FindRepo()
	if err != nil {
		fail(err)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "up":
		err = up(repo, args)
	case "exec":
		err = execCmd(repo, args)
	case "dlq":
		err = dlqCmd(repo, args)
	default:
		usage()
	}
	if err != nil {
		fail(err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tidings up | exec -- CMD [ARGS] | dlq list|replay [flags]")
	os.Exit(2)
}

func fail(err error) {
	var exit exitCode
	if errors.As(err, &exit) {
		os.Exit(int(exit))
	}
	fmt.Fprintln(os.Stderr, "tidings:", err)
	os.Exit(1)
}

type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
