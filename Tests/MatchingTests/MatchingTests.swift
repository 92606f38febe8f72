import Testing
import Matching
