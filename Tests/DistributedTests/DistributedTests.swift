import Testing
import Distributed
