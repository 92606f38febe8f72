import Testing
import Simulation
