import Foundation
import Factorization

/// Emulates r MPI ranks in one process: each rank runs on its own thread, and the `Reduction` handed to rank i
/// blocks until every rank has deposited its buffer, then returns the element-wise sum (added in rank order, as a
/// deterministic allreduce would).
final class InProcessRanks: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var floats: [[Float]]
    private var doubles: [[Double]]
    private var floatSum: [Float] = []
    private var doubleSum: [Double] = []
    private var arrived = 0
    private var generation = 0

    init(count: Int) {
        self.count = count
        floats = Array(repeating: [], count: count)
        doubles = Array(repeating: [], count: count)
    }

    private func exchange(rank: Int, deposit: () -> Void, combine: () -> Void, collect: () -> Void) {
        condition.lock()
        deposit()
        arrived += 1
        let myGeneration = generation
        if arrived == count {
            combine()
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
        collect()
        condition.unlock()
    }

    func reduction(rank: Int) -> Reduction {
        Reduction(sum: { [self] buffer in
            exchange(rank: rank, deposit: { floats[rank] = buffer }, combine: {
                var s = floats[0]
                for r in 1 ..< count { for i in s.indices { s[i] += floats[r][i] } }
                floatSum = s
            }, collect: { buffer = floatSum })
        }, sumDouble: { [self] buffer in
            exchange(rank: rank, deposit: { doubles[rank] = buffer }, combine: {
                var s = doubles[0]
                for r in 1 ..< count { for i in s.indices { s[i] += doubles[r][i] } }
                doubleSum = s
            }, collect: { buffer = doubleSum })
        }, maximum: { [self] buffer in
            exchange(rank: rank, deposit: { floats[rank] = buffer }, combine: {
                var s = floats[0]
                for r in 1 ..< count { for i in s.indices { s[i] = max(s[i], floats[r][i]) } }
                floatSum = s
            }, collect: { buffer = floatSum })
        })
    }

    /// Runs `body(rank, reduction)` on `count` threads and returns the results in rank order.
    static func run<T>(ranks: Int, _ body: @escaping @Sendable (Int, Reduction) throws -> T) throws -> [T] {
        let world = InProcessRanks(count: ranks)
        let box = ResultBox<T>(ranks)
        let done = DispatchSemaphore(value: 0)
        let lock = NSLock()
        for rank in 0 ..< ranks {
            let thread = Thread {
                let r = Result { try body(rank, world.reduction(rank: rank)) }
                lock.lock(); box.results[rank] = r; lock.unlock()
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0 ..< ranks { done.wait() }
        return try box.results.map { try $0!.get() }
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var results: [Result<T, Error>?]
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

/// Deterministic test data.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &+ 0x1234_5678 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(Double(next() >> 11) * 0x1.0p-53) }
}

/// A planted non-negative factorisation X = W0 H0 (n x p, rank k) with sparse factors (identifiable).
func plantedMatrix(n: Int, p: Int, k: Int, seed: UInt64) -> (x: [Float], w: [Float], h: [Float]) {
    var rng = TestRandom(seed)
    var w = [Float](repeating: 0, count: n * k), h = [Float](repeating: 0, count: k * p)
    for i in 0 ..< n { for t in 0 ..< k { let u = rng.uniform(); w[i * k + t] = u < 0.4 ? 0 : u } }
    for i in 0 ..< n { w[i * k + (i % k)] += 1 }
    for t in 0 ..< k { for j in 0 ..< p { let u = rng.uniform(); h[t * p + j] = u < 0.5 ? 0 : u } }
    for t in 0 ..< k { h[t * p + (t * 7) % p] += 1 }
    var x = [Float](repeating: 0, count: n * p)
    for i in 0 ..< n { for t in 0 ..< k where w[i * k + t] != 0 { for j in 0 ..< p { x[i * p + j] += w[i * k + t] * h[t * p + j] } } }
    return (x, w, h)
}

func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var scale: Float = 0, diff: Float = 0
    for i in a.indices { scale = max(scale, abs(a[i]), abs(b[i])); diff = max(diff, abs(a[i] - b[i])) }
    return scale > 0 ? diff / scale : 0
}
