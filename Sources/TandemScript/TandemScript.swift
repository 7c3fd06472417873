// Placeholder: TandemScript
