import Foundation

/// Peak resident memory of this process (the rank), from getrusage: Linux reports kilobytes.
public enum ResourceUsage {
    public static var peakResidentBytes: Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Int(u.ru_maxrss) * 1024
    }
}
