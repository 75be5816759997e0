package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PeakRSS returns the peak resident set size of this process in bytes:
// VmHWM from /proc/self/status, or getrusage's ru_maxrss (KiB on Linux)
// where /proc is missing. 0 if neither is available.
func PeakRSS() int64 {
	if v := procStatus("VmHWM:"); v > 0 {
		return v
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		return int64(ru.Maxrss) * 1024
	}
	return 0
}

// cpuTime returns the process's user + system CPU time (0 if unknown).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// currentRSS returns VmRSS in bytes (0 where /proc is missing).
func currentRSS() int64 { return procStatus("VmRSS:") }

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, key) {
			continue
		}
		fs := strings.Fields(line[len(key):])
		if len(fs) == 0 {
			return 0
		}
		v, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0
		}
		return v * 1024
	}
	return 0
}
