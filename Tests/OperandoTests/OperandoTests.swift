import Testing
import Operando
