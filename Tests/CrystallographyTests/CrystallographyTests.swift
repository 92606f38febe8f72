import Testing
import Crystallography
