import Testing
import Registration
