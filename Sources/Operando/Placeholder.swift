// Operando: placeholder until the target lands.
enum OperandoPlaceholder {}
