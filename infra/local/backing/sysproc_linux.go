package backing

import "syscall"

// sysProcAttr puts the child in its own process group (so a terminal Ctrl-C
// reaches only us and we stop children in order) and makes the kernel send
// it stopSignal if we die without stopping it.
func sysProcAttr(stopSignal syscall.Signal, cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: stopSignal, Credential: cred}
}
