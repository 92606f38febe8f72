import Foundation
import Testing
import Crystallography

private let aluminiumCIF = """
data_Al
_chemical_name_mineral 'Aluminium'
_cell_length_a 4.0495(2)
_cell_length_b 4.0495(2)
_cell_length_c 4.0495(2)
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
_symmetry_equiv_pos_as_xyz
 'x, y, z'
 '-x, -y, z'
 '-x, y, -z'
 'z, x, y'
 'y, x, -z'
 '-x, -y, -z'
 'x, y+1/2, z+1/2'
 'x+1/2, y, z+1/2'
 'x+1/2, y+1/2, z'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
_atom_site_B_iso_or_equiv
Al1 Al 0 0 0 1.0 0.80
"""

@Test func readsCellSymopsAndSites() throws {
    let s = try CIFReader.parse(aluminiumCIF, source: "al.cif")
    #expect(s.name == "Aluminium")
    #expect(s.spaceGroup.operations.count == 192)
    #expect(s.atoms.count == 4)
    let builtIn = BuiltInPhase.aluminium.structure
    for (h, k, l) in [(1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1)] {
        #expect(abs(s.intensity(h, k, l) - builtIn.intensity(h, k, l)) < 1e-9 * builtIn.intensity(h, k, l))
    }
}

@Test func readsSpaceGroupSymbolUisoAndComments() throws {
    let text = """
    # graphite, symmetry from the symbol only
    data_graphite
    _cell_length_a 2.464
    _cell_length_b 2.464
    _cell_length_c 6.711
    _cell_angle_alpha 90
    _cell_angle_beta 90
    _cell_angle_gamma 120
    _space_group_name_H-M_alt 'P 63/m m c'
    loop_
    _atom_site_label
    _atom_site_fract_x
    _atom_site_fract_y
    _atom_site_fract_z
    _atom_site_U_iso_or_equiv
    C1 0 0 0.25 0.0076   # 2b
    C2 0.33333 0.66667 0.25 0.0076
    """
    let s = try CIFReader.parse(text, source: "graphite.cif")
    #expect(s.spaceGroup.number == 194)
    #expect(s.atoms.count == 4)
    #expect(abs(s.atoms[0].debyeWallerB - 8 * Double.pi * Double.pi * 0.0076) < 1e-12)
    #expect(s.pointGroup.name == "622")
    // Same pattern as the built-in graphite up to the slightly different B.
    #expect(s.intensity(0, 0, 1) < 1e-9 && s.intensity(0, 0, 2) > 1)
}

@Test func errorsNameTheField() {
    let missingB = aluminiumCIF.replacingOccurrences(of: "_cell_length_b 4.0495(2)\n", with: "")
    #expect(throws: CrystallographyError.missingField(source: "x.cif", field: "_cell_length_b")) {
        try CIFReader.parse(missingB, source: "x.cif")
    }
    let badElement = aluminiumCIF.replacingOccurrences(of: "Al1 Al 0 0 0", with: "Q1 Qq 0 0 0")
    do {
        _ = try CIFReader.parse(badElement, source: "x.cif")
        Issue.record("expected an unknown-element error")
    } catch let e as CrystallographyError {
        #expect(e.description.contains("Qq") && e.description.contains("_atom_site_type_symbol"))
    } catch { Issue.record("unexpected \(error)") }
    let badNumber = aluminiumCIF.replacingOccurrences(of: "_cell_angle_beta 90", with: "_cell_angle_beta ninety")
    #expect(throws: CrystallographyError.invalidValue(source: "x.cif", field: "_cell_angle_beta", value: "ninety", expected: "a number")) {
        try CIFReader.parse(badNumber, source: "x.cif")
    }
    let badOp = aluminiumCIF.replacingOccurrences(of: "'z, x, y'", with: "'z, x, w'")
    #expect(throws: CrystallographyError.self) { try CIFReader.parse(badOp, source: "x.cif") }
    let noSites = String(aluminiumCIF.prefix(upTo: aluminiumCIF.range(of: "loop_\n_atom_site_label")!.lowerBound))
    #expect(throws: CrystallographyError.missingField(source: "x.cif", field: "_atom_site_fract_x")) {
        try CIFReader.parse(noSites, source: "x.cif")
    }
}

@Test func readsNewStyleSymopLoopAndNumberOnly() throws {
    // α-Fe from the space-group number alone; LiFePO4 with the CIF2-style symop tag and uncertainties.
    let fe = try CIFReader.parse("""
    data_Fe
    _cell_length_a 2.8665
    _cell_length_b 2.8665
    _cell_length_c 2.8665
    _cell_angle_alpha 90
    _cell_angle_beta 90
    _cell_angle_gamma 90
    _space_group_IT_number 229
    loop_
    _atom_site_label
    _atom_site_type_symbol
    _atom_site_fract_x
    _atom_site_fract_y
    _atom_site_fract_z
    Fe1 Fe0+ 0 0 0
    """, source: "fe.cif")
    #expect(fe.atoms.count == 2 && fe.spaceGroup.operations.count == 96)
    #expect(fe.intensity(1, 0, 0) < 1e-12 && fe.intensity(1, 1, 0) > 1)

    let lfp = try CIFReader.parse("""
    data_LiFePO4
    _chemical_formula_sum 'Fe Li O4 P'
    _cell_length_a 10.332(4)
    _cell_length_b 6.010(2)
    _cell_length_c 4.692(2)
    _cell_angle_alpha 90
    _cell_angle_beta 90
    _cell_angle_gamma 90
    loop_
    _space_group_symop_id
    _space_group_symop_operation_xyz
    1 x,y,z
    2 -x+1/2,-y,z+1/2
    3 -x,y+1/2,-z
    4 x+1/2,-y+1/2,-z+1/2
    5 -x,-y,-z
    6 x+1/2,y,-z+1/2
    7 x,-y+1/2,z
    8 -x+1/2,y+1/2,z+1/2
    loop_
    _atom_site_label
    _atom_site_type_symbol
    _atom_site_fract_x
    _atom_site_fract_y
    _atom_site_fract_z
    _atom_site_occupancy
    _atom_site_U_iso_or_equiv
    Li1 Li1+ 0 0 0 1 0.0127
    Fe1 Fe2+ 0.28222(3) 0.25 0.97472(7) 1 0.0063
    P1 P5+ 0.09486(5) 0.25 0.41820(10) 1 0.0051
    O1 O2- 0.09678(14) 0.25 0.74279(29) 1 0.0076
    O2 O2- 0.45710(14) 0.25 0.20602(29) 1 0.0076
    O3 O2- 0.16558(10) 0.04660(19) 0.28485(20) 1 0.0076
    """, source: "lfp.cif")
    #expect(lfp.name == "Fe Li O4 P")
    #expect(lfp.atoms.count == 28 && lfp.pointGroup.name == "222")
    let builtIn = BuiltInPhase.lithiumIronPhosphate.structure
    // Same structure as the built-in up to the displacement factors: same absences, similar strong reflections.
    for (h, k, l) in [(0, 1, 0), (1, 0, 0), (0, 1, 2)] { #expect(lfp.intensity(h, k, l) < 1e-9) }
    for (h, k, l) in [(2, 0, 0), (1, 1, 1), (3, 1, 1), (0, 2, 0)] {
        #expect(abs(lfp.intensity(h, k, l) / builtIn.intensity(h, k, l) - 1) < 0.05)
    }
}
