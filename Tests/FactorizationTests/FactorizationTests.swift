import Testing
import Factorization
