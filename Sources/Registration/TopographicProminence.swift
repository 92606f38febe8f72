/// A local maximum of an image and its topographic prominence.
public struct Peak: Sendable, Equatable {
    /// Pixel index `row * width + column`.
    public var index: Int
    public var value: Float
    /// Height of the peak above the highest saddle that connects it to a higher peak; for the highest peak
    /// (and any peak never joined above the floor) the height above the lowest level considered.
    public var prominence: Float
    /// Whether a saddle to a higher peak was found above the floor. When false and a floor was given, the true
    /// prominence is at least `value - floor` (the stored value); without a floor it is `value - minimum`.
    public var saddleFound: Bool
}

/// Topographic prominence of every local maximum of an image by a union-find watershed
/// (methods notes, section 1, "local maxima ... whose topographic prominence is at least the threshold").
///
/// Pixels are visited in descending value (ties: ascending index, so plateaus are one peak); a pixel with no
/// visited 8-neighbour starts a component whose peak is that pixel; a pixel touching two components is their
/// saddle: the component with the lower peak ends there, and its peak's prominence is `peak - saddle`.
/// Cost: a radix sort (O(n)) plus near-linear union-find. With a `floor`, only pixels >= floor are visited:
/// the superlevel-set components above the floor are exact, so every peak whose `value - threshold >= floor`
/// is classified exactly; the detector uses this to skip the background.
public final class TopographicProminence {
    public let capacity: Int
    private var keys: [UInt64], spare: [UInt64]
    private var parent: [Int32], peakOfRoot: [Int32]
    private var prominence: [Float]
    private var queue: [Int32], stamp: [UInt32]
    private var currentStamp: UInt32 = 0
    private var histogram: [Int]
    /// Peaks of the last call, in descending value (workspace reused between calls).
    public private(set) var peaks: [Peak] = []
    private var peakPixels: [Int32] = []

    public init(pixelCapacity: Int) {
        capacity = max(1, pixelCapacity)
        keys = [UInt64](repeating: 0, count: capacity)
        spare = keys
        parent = [Int32](repeating: -1, count: capacity)
        peakOfRoot = parent
        prominence = [Float](repeating: 0, count: capacity)
        queue = [Int32](repeating: 0, count: capacity)
        stamp = [UInt32](repeating: 0, count: capacity)
        histogram = [Int](repeating: 0, count: 2048)
        peaks.reserveCapacity(1024)
        peakPixels.reserveCapacity(1024)
    }

    /// Order-preserving map of a Float to UInt32 (NaN-free input).
    @inline(__always) static func monotonicKey(_ f: Float) -> UInt32 {
        let b = f.bitPattern
        return (b & 0x8000_0000) != 0 ? ~b : b | 0x8000_0000
    }

    /// Finds all peaks among the pixels >= `floor` (default: all pixels) and their prominences. `image`
    /// must be free of NaN. Returns `peaks` (also kept in the property).
    @discardableResult
    public func compute(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int,
                        floor: Float = -.infinity) -> [Peak] {
        let n = width * height
        precondition(n <= capacity && image.count >= n)
        peaks.removeAll(keepingCapacity: true)
        peakPixels.removeAll(keepingCapacity: true)
        guard n > 0 else { return peaks }
        let img = image.baseAddress!
        var lowest = Float.infinity
        var m = 0
        keys.withUnsafeMutableBufferPointer { k in
            for i in 0 ..< n {
                let v = img[i]
                lowest = min(lowest, v)
                if v >= floor {
                    k[m] = UInt64(~Self.monotonicKey(v)) << 32 | UInt64(i)
                    m += 1
                }
            }
        }
        let base = max(floor, lowest)
        let sorted = radixSortUpper32(count: m)
        parent.withUnsafeMutableBufferPointer { par in
        peakOfRoot.withUnsafeMutableBufferPointer { pk in
        prominence.withUnsafeMutableBufferPointer { prom in
            let par = par.baseAddress!, pk = pk.baseAddress!, prom = prom.baseAddress!
            for i in 0 ..< n { par[i] = -1 }
            @inline(__always) func find(_ x0: Int32) -> Int32 {
                var x = x0
                while par[Int(x)] != x {
                    let g = par[Int(par[Int(x)])]
                    par[Int(x)] = g
                    x = g
                }
                return x
            }
            @inline(__always) func higher(_ a: Int32, _ b: Int32) -> Bool {
                let va = img[Int(a)], vb = img[Int(b)]
                return va > vb || (va == vb && a < b)
            }
            sorted.withUnsafeBufferPointer { order in
                for s in 0 ..< m {
                    let p = Int(order[s] & 0xFFFF_FFFF)
                    let v = img[p]
                    let y = p / width, x = p - y * width
                    var root: Int32 = -1
                    for dy in -1 ... 1 {
                        let yy = y + dy
                        if yy < 0 || yy >= height { continue }
                        for dx in -1 ... 1 {
                            let xx = x + dx
                            if xx < 0 || xx >= width || (dx == 0 && dy == 0) { continue }
                            let q = yy * width + xx
                            if par[q] < 0 { continue }
                            let rq = find(Int32(q))
                            if root < 0 { root = rq; par[p] = rq; continue }
                            if rq == root { continue }
                            let a = pk[Int(root)], b = pk[Int(rq)]
                            if higher(a, b) {
                                prom[Int(b)] = img[Int(b)] - v
                                par[Int(rq)] = root
                            } else {
                                prom[Int(a)] = img[Int(a)] - v
                                par[Int(root)] = rq
                                root = rq
                            }
                        }
                    }
                    if root < 0 {
                        par[p] = Int32(p)
                        pk[p] = Int32(p)
                        prom[p] = -.infinity
                        peakPixels.append(Int32(p))
                    }
                }
            }
            for p in peakPixels {
                let v = img[Int(p)]
                let found = prom[Int(p)] != -.infinity
                peaks.append(Peak(index: Int(p), value: v, prominence: found ? prom[Int(p)] : v - base, saddleFound: found))
            }
        }}}
        return peaks
    }

    /// Whether `peak` (a pixel with no higher 8-neighbour; higher = larger value, ties: smaller index) has
    /// topographic prominence >= `threshold` (> 0) among the pixels >= `floor`, decided without the sort: a
    /// breadth-first fill from the peak over the pixels q >= `floor` with `peak value - q < threshold` (the
    /// same Float comparison as `prominence >= threshold`) that stops at the first pixel higher than the peak.
    /// The peak is prominent exactly when the fill ends without one (the union-find of `compute` would merge
    /// it into a higher peak at a saddle inside the filled set otherwise). Noise maxima meet a higher pixel
    /// within a few pixels. Each visited pixel costs one unit of `budget`; returns nil, undecided, when the
    /// budget runs out.
    public func isProminent(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, peak: Int,
                            threshold: Float, floor: Float, budget: inout Int) -> Bool? {
        let img = image.baseAddress!
        let v = img[peak]
        currentStamp &+= 1
        if currentStamp == 0 {
            for i in stamp.indices { stamp[i] = 0 }
            currentStamp = 1
        }
        let mark = currentStamp
        var remaining = budget
        defer { budget = remaining }
        return queue.withUnsafeMutableBufferPointer { qb in
            stamp.withUnsafeMutableBufferPointer { st in
                let q = qb.baseAddress!, st = st.baseAddress!
                var head = 0, tail = 0
                q[tail] = Int32(peak); tail += 1; st[peak] = mark
                while head < tail {
                    if remaining <= 0 { return nil }
                    remaining -= 1
                    let p = Int(q[head]); head += 1
                    let y = p / width, x = p - y * width
                    for dy in -1 ... 1 {
                        let yy = y + dy
                        if yy < 0 || yy >= height { continue }
                        for dx in -1 ... 1 {
                            let xx = x + dx
                            if xx < 0 || xx >= width { continue }
                            let nq = yy * width + xx
                            if st[nq] == mark { continue }
                            let u = img[nq]
                            if u > v || (u == v && nq < peak) { return false } // reached a higher pixel
                            if u >= floor && v - u < threshold {
                                st[nq] = mark
                                q[tail] = Int32(nq); tail += 1
                            }
                        }
                    }
                }
                return true
            }
        }
    }

    /// The region of pixels connected to `peak` with value > peak value - `threshold` (its top): whether it
    /// touches the image edge (ImageJ's "exclude edge maxima"), and its shape. Regions of peaks whose
    /// prominence >= threshold are disjoint, so testing all accepted peaks costs O(n) in total. With
    /// `stopAtEdge` the fill ends at the first edge pixel (the shape is then of the part filled).
    public func topRegion(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, peak: Int,
                          threshold: Float, stopAtEdge: Bool = true) -> TopRegion {
        let img = image.baseAddress!
        let level = img[peak] - threshold
        currentStamp &+= 1
        if currentStamp == 0 {
            for i in stamp.indices { stamp[i] = 0 }
            currentStamp = 1
        }
        let mark = currentStamp
        let px = peak % width, py = peak / width
        return queue.withUnsafeMutableBufferPointer { qb in
            stamp.withUnsafeMutableBufferPointer { st in
                let q = qb.baseAddress!, st = st.baseAddress!
                var head = 0, tail = 0
                var region = TopRegion()
                q[tail] = Int32(peak); tail += 1; st[peak] = mark
                while head < tail {
                    let p = Int(q[head]); head += 1
                    let y = p / width, x = p - y * width
                    region.area += 1
                    region.secondMoment += Double((x - px) * (x - px) + (y - py) * (y - py))
                    if x == 0 || y == 0 || x == width - 1 || y == height - 1 {
                        region.touchesEdge = true
                        if stopAtEdge { return region }
                    }
                    for dy in -1 ... 1 {
                        let yy = y + dy
                        if yy < 0 || yy >= height { continue }
                        for dx in -1 ... 1 where dx != 0 || dy != 0 {
                            let xx = x + dx
                            if xx < 0 || xx >= width { continue }
                            let nq = yy * width + xx
                            if st[nq] != mark && img[nq] > level {
                                st[nq] = mark
                                q[tail] = Int32(nq); tail += 1
                            }
                        }
                    }
                }
                return region
            }
        }
    }

    /// Stable LSD radix sort of `keys[0..<count]` by their upper 32 bits (11 + 11 + 10 bits).
    private func radixSortUpper32(count m: Int) -> [UInt64] {
        let shifts: [(UInt64, UInt64)] = [(32, 0x7FF), (43, 0x7FF), (54, 0x3FF)]
        var inKeys = true
        for (shift, mask) in shifts {
            keys.withUnsafeMutableBufferPointer { a in
            spare.withUnsafeMutableBufferPointer { b in
            histogram.withUnsafeMutableBufferPointer { h in
                let src = inKeys ? a.baseAddress! : b.baseAddress!
                let dst = inKeys ? b.baseAddress! : a.baseAddress!
                let h = h.baseAddress!
                let buckets = Int(mask) + 1
                for i in 0 ..< buckets { h[i] = 0 }
                for i in 0 ..< m { h[Int((src[i] >> shift) & mask)] += 1 }
                var sum = 0
                for i in 0 ..< buckets { let c = h[i]; h[i] = sum; sum += c }
                for i in 0 ..< m {
                    let d = Int((src[i] >> shift) & mask)
                    dst[h[d]] = src[i]
                    h[d] += 1
                }
            }}}
            inKeys.toggle()
        }
        return inKeys ? keys : spare
    }
}

/// The top of a maximum: the pixels connected to it within the prominence threshold of its value
/// (`TopographicProminence.topRegion`).
public struct TopRegion: Sendable, Equatable {
    public var area = 0
    /// Sum over the region of the squared distance (px^2) from the peak pixel.
    public var secondMoment = 0.0
    public var touchesEdge = false

    public init() {}

    /// Second moment about the peak over that of a disc of the same area about its centre, A^2 / (2 pi): 1 for
    /// a disc, (q^2 + 1) / (2 q) for an ellipse of axis ratio q about its centre, up to 3 from the rim of a
    /// flat disc, pi L / (6 w) from the middle of a ridge of length L and width w, and far more from a point
    /// of a ring. 0 for an empty region.
    public var elongation: Double {
        area > 0 ? secondMoment / (Double(area) * Double(area) / (2 * .pi)) : 0
    }

    /// The top is a ridge, not a spot: at least `TopRegion.minimumArea` pixels and an elongation above
    /// `TopRegion.ridgeElongation` (4: an ellipse of axis ratio 7.9, a ridge 7.6 times longer than wide).
    /// The top of a Bragg spot or disc is compact whatever its size; a ring (amorphous, polycrystalline or
    /// HOLZ), a Kikuchi band or a long streak has one maximum along it whose prominence is the ridge's height.
    public var isRidge: Bool { area >= Self.minimumArea && elongation > Self.ridgeElongation }

    public static let ridgeElongation = 4.0
    /// Smaller tops are too few pixels for a shape.
    public static let minimumArea = 12
}
