// Placeholder: TandemProxy
