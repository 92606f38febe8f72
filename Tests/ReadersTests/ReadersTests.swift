import Testing
import Readers
