//go:build !linux

package backing

import (
	"os"
	"syscall"
)

func sysProcAttr(_ syscall.Signal, cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

func killGroup(p *os.Process) { _ = p.Kill() }
