import Testing
import HDF5
