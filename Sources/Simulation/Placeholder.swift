// Simulation: placeholder until the target lands.
enum SimulationPlaceholder {}
