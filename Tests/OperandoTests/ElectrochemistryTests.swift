import Testing
import Operando
import STEMCore

@Suite struct ElectrochemistryTests {
    @Test func readsHeaderVariantsAndFindsSegmentsFromCurrent() throws {
        let csv = """
        # cycling log
        Time/s, Ewe/V, I/mA, SOC
        0, 3.40, 0, 0
        60, 3.50, 2, 0.1
        120, 3.60, 2, 0.2
        180, 3.70, 2, 0.3
        240, 3.70, 0, 0.3
        300, 3.60, -2, 0.2
        360, 3.50, -2, 0.1
        """
        let t = try ElectrochemistryTable.parse(csv: csv)
        #expect(t.count == 7)
        #expect(t.time[6] == 360)
        #expect(t.voltage?[3] == 3.70)
        #expect(t.current?[5] == -2)
        #expect(t.stateOfCharge?[2] == 0.2)
        let s = t.segments()
        #expect(s.map(\.direction) == [.charge, .discharge])
        #expect(s[0].steps == 1 ... 3)
        #expect(s[1].steps == 5 ... 6)
        #expect(try t.segment(.discharge).steps == 5 ... 6)
        #expect(throws: STEMError.self) { _ = try t.segment(.charge, index: 1) }
        // Round trip through csv().
        let again = try ElectrochemistryTable.parse(csv: t.csv())
        #expect(again == t)
    }

    @Test func segmentsFromVoltageWhenNoCurrent() throws {
        let t = try ElectrochemistryTable.parse(csv: "time;voltage\n0;3.4\n1;3.5\n2;3.6\n3;3.5\n4;3.4\n")
        let s = t.segments()
        #expect(s.map(\.direction) == [.charge, .discharge])
        #expect(s[0].steps == 0 ... 2)
        #expect(s[1].steps == 2 ... 4)
    }

    @Test func badTablesGiveTypedErrors() {
        #expect(throws: STEMError.self) { _ = try ElectrochemistryTable.parse(csv: "") }
        #expect(throws: STEMError.self) { _ = try ElectrochemistryTable.parse(csv: "voltage,current\n1,2\n") }
        #expect(throws: STEMError.self) { _ = try ElectrochemistryTable.parse(csv: "time,foo\n1,2\n") }
        #expect(throws: STEMError.self) { _ = try ElectrochemistryTable.parse(csv: "time,voltage\n1,abc\n") }
        #expect(throws: STEMError.self) { _ = try ElectrochemistryTable.parse(csv: "time,voltage\n1\n") }
        #expect(throws: STEMError.self) { _ = try ElectrochemistryTable.parse(csv: "time,voltage\n") }
        #expect(throws: STEMError.self) { _ = try ElectrochemistryTable.read(path: "/nonexistent/echem.csv") }
    }
}
