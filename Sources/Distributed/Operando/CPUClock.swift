import Foundation

/// CPU time of the calling thread (s): throughput per rank that a loaded machine's preemption does not
/// distort, reported next to wall-clock rates.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
}
