import Foundation
import Testing
import Factorization

@Suite("Kneedle")
struct KneedleTests {
    /// The authors' K-component losses (x 1e-3) for k = 3 ... 20, methods notes section 3.
    static let authorsLosses: [Double] = [5.035, 4.570, 4.136, 3.716, 3.445, 3.287, 3.256, 3.124, 3.080, 2.896, 2.890,
                                          2.807, 2.807, 2.694, 2.835, 2.826, 2.763, 2.637]

    @Test("The authors' loss vector gives knee k = 8 and region 4 ... 12")
    func authorsVector() throws {
        let ks = Array(3 ... 20)
        let knee = try Kneedle.knee(x: ks.map(Double.init), y: Self.authorsLosses)
        #expect(knee == 8)
        let recommendation = try #require(try Kneedle.recommend(ks: ks, losses: Self.authorsLosses))
        #expect(recommendation.knee == 8 && recommendation.region == 4 ... 12)
    }

    /// Values produced by kneed 0.9.0 (`KneeLocator(x, y, S=1, curve=..., direction=...)`).
    @Test("Agrees with kneed on other curves")
    func kneedCases() throws {
        #expect(try Kneedle.knee(x: [0, 1, 2, 3, 4], y: [1, 0.5, 0.3, 0.25, 0.2]) == 2)
        #expect(try Kneedle.knee(x: [0, 1, 2, 3, 4, 5], y: [10, 9, 8, 7, 6, 5]) == nil)
        #expect(try Kneedle.knee(x: [0, 1, 2, 3, 4, 5, 6, 7], y: [3, 1, 0.9, 0.85, 0.8, 0.5, 0.45, 0.4]) == 1)
        let x = Array(stride(from: 0.0, through: 9, by: 1))
        let concave = x.map { 1 - 1 / ($0 + 1) }
        #expect(try Kneedle.knee(x: x, y: concave, curve: .concave, direction: .increasing) == 2)
        let growth = x.map { exp($0 / 3) }
        #expect(try Kneedle.knee(x: x, y: growth, curve: .convex, direction: .increasing) == 6)
        #expect(try Kneedle.knee(x: x, y: growth.map { 1 - $0 / 30 }, curve: .concave, direction: .decreasing) == 6)
    }

    @Test("Fewer than 3 k values is a clear error")
    func tooFew() {
        #expect(throws: NMFError.tooFewPoints(count: 2, needed: 3)) { try Kneedle.knee(x: [3, 4], y: [1, 0.5]) }
        #expect(throws: NMFError.self) { try Kneedle.knee(x: [3, 3, 4], y: [1, 0.5, 0.2]) }
        #expect(throws: NMFError.self) { try Kneedle.knee(x: [3, 4, 5], y: [1, .nan, 0.2]) }
    }
}
