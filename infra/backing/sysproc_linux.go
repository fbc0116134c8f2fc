package backing

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group (so a terminal Ctrl-C
// reaches only us and we stop children in order) and makes the kernel send
// it stopSignal if we die without stopping it.
func sysProcAttr(stopSignal syscall.Signal, cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: stopSignal, Credential: cred}
}

// killGroup SIGKILLs the process group p leads, so helpers it forked (and
// that still hold our output pipe) die with it.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
