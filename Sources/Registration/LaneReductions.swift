/// Whether any lane of an eight-lane mask is set, in a few vector instructions (a blend and two halvings): the
/// standard library's `any(_:)` calls an unspecialised lane reduction here, which cost more than the kernels'
/// arithmetic in the zinger and background loops.
@inline(__always)
func anyLane(_ mask: SIMDMask<SIMD8<Int32>>) -> Bool {
    let v = SIMD8<Int32>().replacing(with: -1, where: mask)
    let a = v.lowHalf | v.highHalf
    let b = a.lowHalf | a.highHalf
    return (b[0] | b[1]) != 0
}
