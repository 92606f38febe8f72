import Testing
import Imaging
